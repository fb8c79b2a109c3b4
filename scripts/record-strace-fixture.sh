#!/bin/bash
# Records one strace fixture of test/fixtures/strace/NAME from its prog.c, as the corpus was made:
# the program built with gcc -O1 (-pthread), run at /tmp/vmscope-fx/NAME with the environment A=1 and
# ASLR off, once under strace (strace.txt) and once under gdb, which copies /proc/PID/maps at the
# exit_group system call (maps-exit.txt). Run it on the Linux machine the corpus describes.
#   scripts/record-strace-fixture.sh NAME
set -euo pipefail
name=$1
here=$(cd "$(dirname "$0")/../test/fixtures/strace/$name" && pwd)
run=/tmp/vmscope-fx
mkdir -p "$run"
gcc -O1 -pthread -o "$run/$name" "$here/prog.c"
cd "$run"
rm -f data.bin
env -i A=1 setarch x86_64 -R strace -f -y -v -s 4096 -o "$here/strace.txt" "$run/$name" > /dev/null
rm -f data.bin
cat > "$run/$name.gdb" <<EOG
set startup-with-shell off
set disable-randomization on
set pagination off
unset environment
set environment A=1
handle SIGBUS nostop noprint pass
handle SIGSEGV nostop noprint pass
catch syscall exit_group
run
python
import gdb
pid = gdb.selected_inferior().pid
open("$here/maps-exit.txt", "w").write(open("/proc/%d/maps" % pid).read())
end
kill
quit
EOG
env -i A=1 setarch x86_64 -R gdb -nx -batch -x "$run/$name.gdb" "$run/$name" > /dev/null 2>&1
rm -f data.bin "$run/$name.gdb"
gzip -9 -n -c "$run/$name" > "$here/prog.gz"
