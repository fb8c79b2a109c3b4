/**
 * The strace log parser: every output shape strace has (-f pid prefixes from -o and from the
 * terminal, -t/-tt/-ttt/-r times, -T durations, -i addresses, -y/-yy fd paths, interrupted calls and
 * their resumption, signals, exits), argument readers, errors with line and column, chunking, and
 * random input that must never crash or hang.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { MAP_NAMES, PROT_NAMES } from '../../src/workload/strace/names.js';
import {
  type LoggedCall,
  NO_PID,
  parseStrace,
  type StraceEvent,
  StraceParser,
} from '../../src/workload/strace/parser.js';

const enc = new TextEncoder();

function events(text: string): StraceEvent[] {
  return parseStrace('t.log', enc.encode(text));
}

function calls(text: string): LoggedCall[] {
  return events(text).filter((e): e is LoggedCall => e.kind === 'call');
}

function one(text: string): LoggedCall {
  const c = calls(text);
  expect(c.length).toBe(1);
  return c[0]!;
}

function errorOf(text: string): InputError {
  try {
    events(text);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an input error');
}

describe('strace lines', () => {
  test('a call from `strace -f -o`: pid, name, arguments and an address result', () => {
    const c = one(
      '7801  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fc0000\n',
    );
    expect(c.pid).toBe(7801);
    expect(c.name).toBe('mmap');
    expect(c.line).toBe(1);
    expect(c.argc).toBe(6);
    expect(c.arg(0).int('an address')).toBe(0);
    expect(c.arg(1).int('a length')).toBe(8192);
    expect(c.arg(2).flags(PROT_NAMES, 'prot')).toBe(3);
    expect(c.arg(3).flags(MAP_NAMES, 'flags')).toBe(0x22);
    expect(c.arg(4).fd()).toEqual({ fd: -1, path: null });
    expect(c.result).toEqual({ kind: 'value', value: 0x7ffff7fc0000, path: null });
  });

  test('without -f there is no pid; errors carry their errno name', () => {
    const c = one('access("/etc/ld.so.preload", R_OK)      = -1 ENOENT (No such file or directory)\n');
    expect(c.pid).toBe(NO_PID);
    expect(c.arg(0).str()).toEqual({ value: '/etc/ld.so.preload', truncated: false });
    expect(c.result).toEqual({ kind: 'error', errno: 'ENOENT', value: -1 });
  });

  test('the terminal form [pid N], times from -t, -tt, -ttt and -r, -n numbers, -i addresses and -T durations', () => {
    const lines = [
      '[pid 17603] 19:00:05.931880 brk(NULL) = 0x555555576000 <0.000031>',
      '17578 19:00:05 brk(NULL) = 0x555555576000',
      '1796583606.024430 brk(NULL)             = 0x555555576000',
      '     0.000478 [00007ffff7fe9c47] brk(NULL) = 0x55555555e000',
      '17578       0.000478 brk(NULL) = 0x55555555e000 <0.000010>',
      // -n: the system call's number, before -i's address.
      '21578 05:55:31.471777 [  12] [00007f0763d6ec47] brk(NULL) = 0x55f7f3ee8000',
      '[  12] brk(NULL)                        = 0x561f39350000',
    ];
    const cs = calls(`${lines.join('\n')}\n`);
    expect(cs.map((c) => c.pid)).toEqual([17603, 17578, NO_PID, NO_PID, 17578, 21578, NO_PID]);
    expect(cs.every((c) => c.name === 'brk' && c.result.kind === 'value')).toBe(true);
  });

  test('-y paths on fds and results, escapes undone, nested -yy devices and TCP peers', () => {
    const c = one(
      '1 mmap(NULL, 39683, PROT_READ, MAP_PRIVATE, 3</etc/ld.so\\x3ecache>, 0) = 0x7ffff7fb6000\n',
    );
    expect(c.arg(4).fd()).toEqual({ fd: 3, path: '/etc/ld.so>cache' });
    const o = one('1 openat(AT_FDCWD</tmp/a b>, "x(1)", O_RDONLY) = 3</tmp/a b/x(1)>\n');
    expect(o.arg(0).fd()).toEqual({ fd: -100, path: '/tmp/a b' });
    expect(o.result).toEqual({ kind: 'value', value: 3, path: '/tmp/a b/x(1)' });
    // -yy's device numbers are not part of the name (/proc/PID/maps shows /dev/zero).
    const w = one('1 write(1</dev/pts/0<char 136:0>>, "hi\\n", 3) = 3\n');
    expect(w.arg(0).fd()).toEqual({ fd: 1, path: '/dev/pts/0' });
    const z = one('1 openat(AT_FDCWD</tmp>, "/dev/zero", O_RDWR) = 4</dev/zero<char 1:5>>\n');
    expect(z.result).toEqual({ kind: 'value', value: 4, path: '/dev/zero' });
    const b = one('1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5</dev/sda1<block 8:1>>, 0) = 0x7ffff7ff0000\n');
    expect(b.arg(4).fd()).toEqual({ fd: 5, path: '/dev/sda1' });
    const s = one('1 close(4<TCP:[127.0.0.1:46718->127.0.0.1:80]>) = 0\n');
    expect(s.arg(0).fd().path).toBe('TCP:[127.0.0.1:46718->127.0.0.1:80]');
  });

  test('strings may hold commas, parentheses, quotes and " = " without ending anything', () => {
    const c = one('1 write(1, "a, b) = 3 \\"q\\" (x", 17) = 17\n');
    expect(c.argc).toBe(3);
    expect(c.arg(1).str()!.value).toBe('a, b) = 3 "q" (x');
    expect(c.result).toEqual({ kind: 'value', value: 17, path: null });
    const cut = one('1 read(3, "\\177ELF\\2\\1"..., 832) = 832\n');
    expect(cut.arg(1).str()).toEqual({ value: '\x7fELF\x02\x01', truncated: true });
  });

  test('structs, arrays, comments, products and the updated part after =>', () => {
    const c = one(
      '1 newfstatat(3</x>, "", {st_dev=makedev(0xfe, 0), st_mode=S_IFREG|0644, st_size=39683, ...}, AT_EMPTY_PATH) = 0\n',
    );
    expect(c.arg(2).field('st_size')!.int('a size')).toBe(39683);
    expect(c.arg(2).field('st_mode')!.raw).toBe('S_IFREG|0644');
    expect(c.arg(2).abbreviated).toBe(true);
    const p = one('1 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0\n');
    expect(p.arg(3).field('rlim_cur')!.int('a limit')).toBe(8 << 20);
    expect(p.arg(3).field('rlim_max')!.int('a limit')).toBe(Number.POSITIVE_INFINITY);
    // -X verbose and -X raw print RLIM64_INFINITY as the number 2^64 - 1, which a double cannot hold.
    const v = one(
      '1 prlimit64(0, 0x9 /* RLIMIT_AS */, NULL, {rlim_cur=18446744073709551615 /* RLIM64_INFINITY */, rlim_max=0xffffffffffffffff}) = 0\n',
    );
    expect(v.arg(3).field('rlim_cur')!.limit('a limit')).toBe(Number.POSITIVE_INFINITY);
    expect(v.arg(3).field('rlim_max')!.limit('a limit')).toBe(Number.POSITIVE_INFINITY);
    expect(v.arg(3).field('rlim_cur')!.int('a limit')).not.toBe(Number.POSITIVE_INFINITY);
    const e = one('1 execve("/p", ["/p", "one"], 0x7fffffffedf0 /* 1 var */) = 0\n');
    expect(
      e
        .arg(1)
        .items()!
        .map((v) => v.str()!.value),
    ).toEqual(['/p', 'one']);
    expect(e.arg(2).items()).toBeNull();
    expect(e.arg(2).int('an address')).toBe(0x7fffffffedf0);
    const cl = one(
      '1 clone3({flags=CLONE_VM|CLONE_THREAD, stack=0x7ffff75d0000, stack_size=0x7fff00} => {parent_tid=[16573]}, 88) = 16573\n',
    );
    expect(cl.arg(0).field('stack_size')!.int('a size')).toBe(0x7fff00);
    expect(cl.arg(0).field('flags')!.names()).toEqual(['CLONE_VM', 'CLONE_THREAD']);
  });

  test('huge-page sizes and numbers beyond 32 bits in flags', () => {
    const c = one(
      '1 mmap(NULL, 2097152, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = -1 ENOMEM (x)\n',
    );
    expect(c.arg(3).flags(MAP_NAMES, 'flags')).toBe(0x22 + 0x40000 + 21 * 2 ** 26);
  });

  test('a 64-bit value no double holds keeps its page offset above 2^52 (too large, and not aligned)', () => {
    const c = one('1 mremap(0xffffffffffffffff, 8192, 18446744073709547520, 0) = -1 EINVAL (x)\n');
    expect(c.arg(0).int('an address')).toBe(2 ** 52 + 0xfff);
    expect(c.arg(2).int('a length')).toBe(2 ** 52); // 0xfffffffffffff000: aligned
    expect(c.arg(1).int('a length')).toBe(8192);
    expect(one('1 munmap(0x1fffffffffffff, 4096) = 0\n').arg(0).int('an address')).toBe(2 ** 52 + 0xfff);
    expect(one('1 munmap(0xfffffffffffff, 4096) = 0\n').arg(0).int('an address')).toBe(2 ** 52 - 1);
  });

  test('a call cut by <unfinished ...> and its <... resumed> half become one call, at the resumed line', () => {
    const ev = events(
      [
        '13622 wait4(13623,  <unfinished ...>',
        '13623 exit_group(0)                     = ?',
        '13623 +++ exited with 0 +++',
        '13622 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 13623',
      ].join('\n'),
    );
    expect(ev.map((e) => e.kind)).toEqual(['unfinished', 'call', 'exited', 'call']);
    const w = ev[3] as LoggedCall;
    expect([w.name, w.line, w.endLine, w.argc]).toEqual(['wait4', 1, 4, 4]);
    expect(w.arg(0).int('a pid')).toBe(13623);
    expect(w.arg(2).int('options')).toBe(0);
    expect(w.result).toEqual({ kind: 'value', value: 13623, path: null });
    expect(ev[1]).toMatchObject({ kind: 'call', name: 'exit_group', result: { kind: 'none' } });
  });

  test('an error in the second half of a call names the line and column where its text is', () => {
    const p = new StraceParser('t.log', (ev) => {
      if (ev.kind === 'call') ev.arg(3).flags(MAP_NAMES, 'MAP_* flags');
    });
    let err: unknown = null;
    try {
      p.push(
        enc.encode(
          '5 mmap(NULL, 4096, PROT_READ,  <unfinished ...>\n5 <... mmap resumed>BOGUS, -1, 0) = 0x1000\n',
        ),
      );
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/unknown flag 'BOGUS'/);
    expect((err as InputError).span).toEqual({ file: 't.log', line: 2, column: 21 });
  });

  test('signals, killed processes, strace notes and blank lines', () => {
    const ev = events(
      [
        '7 --- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x7ffff7dcf000} ---',
        '7 --- stopped by SIGSTOP ---',
        'strace: Process 8 attached',
        '',
        '8 +++ killed by SIGSEGV (core dumped) +++',
        '7 +++ exited with 3 +++',
      ].join('\n'),
    );
    expect(ev.map((e) => e.kind)).toEqual(['signal', 'killed', 'exited']);
    const sig = ev[0] as Extract<StraceEvent, { kind: 'signal' }>;
    expect(sig.signal).toBe('SIGBUS');
    expect(sig.info!.field('si_addr')!.int('an address')).toBe(0x7ffff7dcf000);
    expect(ev[1]).toMatchObject({ pid: 8, signal: 'SIGSEGV', core: true });
    expect(ev[2]).toMatchObject({ pid: 7, code: 3 });
  });

  test("strace's terminal note in the middle of a line joins that line with the next", () => {
    const ev = events(
      '1796583606.029015 rt_sigsuspend([], 8strace: Process 17603 attached\n <unfinished ...>\n1796583606.029735 <... rt_sigsuspend resumed>) = ? ERESTARTNOHAND (To be restarted if no handler)\n',
    );
    expect(ev.map((e) => e.kind)).toEqual(['unfinished', 'call']);
    expect((ev[1] as LoggedCall).result).toMatchObject({ kind: 'error', errno: 'ERESTARTNOHAND' });
  });

  test('a half-call whose process ended, or that the log never finishes, is reported lost', () => {
    const ev = events(
      '3 futex(0x5555, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>\n3 +++ exited with 0 +++\n4 read(0, <unfinished ...>',
    );
    expect(ev.map((e) => e.kind)).toEqual(['unfinished', 'lost', 'exited', 'unfinished', 'lost']);
  });

  test('CRLF line ends and a last line without a newline', () => {
    const cs = calls('1 brk(NULL) = 0x1000\r\n1 brk(NULL) = 0x2000');
    expect(cs.map((c) => c.result)).toEqual([
      { kind: 'value', value: 0x1000, path: null },
      { kind: 'value', value: 0x2000, path: null },
    ]);
  });
});

describe('strace input errors', () => {
  test.each([
    ['hello world\n', 1, 6, /expected '\(' after the call name 'hello'/],
    ['1 mmap(NULL, 4096\n', 1, 18, /expected '\)' to close the argument list/],
    ['1 brk(NULL) 0x1000\n', 1, 13, /expected ' = '/],
    ['1 brk(NULL) = zz\n', 1, 15, /expected a number/],
    ['1 write(1, "abc, 3) = 3\n', 1, 12, /no closing quote/],
    ['1 brk(NULL) = 0\n2 +++ exploded +++\n', 2, 3, /exited with N/],
    ['1 --- SIGSEGV {si_signo=SIGSEGV}\n', 1, 33, /' ---'/],
    ['\u0000\u0001\u0002\n', 1, 1, /expected a system call/],
  ])('%j is an error at its line and column', (text, line, column, message) => {
    const e = errorOf(text);
    expect(e.message).toMatch(message);
    expect(e.span).toEqual({ file: 't.log', line, column });
    expect(e.format()).toMatch(new RegExp(`^t\\.log:${line}:${column}: error: `));
  });

  test('an argument reader says what it expected and where', () => {
    const c = one('1 mmap(NULL, lots, PROT_READ, MAP_PRIVATE, -1, 0) = 0x1000\n');
    expect(() => c.arg(1).int('a length')).toThrow(/expected a length as mmap's argument 2, got 'lots'/);
    try {
      c.arg(1).int('a length');
    } catch (e) {
      expect((e as InputError).span).toEqual({ file: 't.log', line: 1, column: 14 });
    }
    expect(() => c.arg(6)).toThrow(/mmap needs at least 7 arguments, the log shows 6/);
  });

  test('a binary file fed as a log fails fast on its first line', () => {
    const bytes = new Uint8Array(1 << 16).map((_, i) => (i * 131 + 7) % 256);
    expect(() => parseStrace('bin', bytes)).toThrow(InputError);
  });
});

describe('strace parsing properties', () => {
  const log = [
    '7801  execve("/tmp/p", ["/tmp/p"], ["A=1"]) = 0',
    '7801  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fc0000',
    '7801  openat(AT_FDCWD</tmp>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
    '7801  wait4(13623,  <unfinished ...>',
    '7802  write(1, "h\\303\\251llo, w\u00f6rld", 12) = 12',
    '7801  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 13623',
    '7801  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---',
    '7801  +++ exited with 0 +++',
  ].join('\n');

  function digest(evs: StraceEvent[]): string[] {
    return evs.map((e) =>
      e.kind === 'call'
        ? `${e.line}-${e.endLine} ${e.pid} ${e.text} = ${JSON.stringify(e.result)}`
        : JSON.stringify({ ...e, info: undefined }),
    );
  }

  test('any split of the input into chunks, even inside a character, gives the same events', () => {
    const bytes = enc.encode(log);
    const whole = digest(parseStrace('t', bytes));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
        const out: StraceEvent[] = [];
        const p = new StraceParser('t', (e) => out.push(e));
        for (let i = 0; i + 1 < points.length; i++) p.push(bytes.subarray(points[i], points[i + 1]));
        p.end();
        expect(digest(out)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  test('random input ends in events or an InputError, never another exception', () => {
    const alphabet = [...'0123456789 abcxyz_()[]{}<>",=|*-.:?/\\\n+E'];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }).map((a) => a.join('')),
          fc.array(fc.integer({ min: 0, max: log.length }), { minLength: 1, maxLength: 6 }).map((cuts) => {
            // Pieces of a real log, shuffled and cut anywhere.
            let s = '';
            for (const c of cuts) s += log.slice(c, c + 40);
            return s;
          }),
        ),
        (text) => {
          try {
            for (const e of parseStrace('f', enc.encode(text))) {
              if (e.kind !== 'call') continue;
              for (let i = 0; i < e.argc; i++) {
                const v = e.arg(i);
                v.tryInt();
                v.str();
                v.field('x');
              }
            }
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
