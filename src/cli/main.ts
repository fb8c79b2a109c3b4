#!/usr/bin/env node
/**
 * The `vmscope` command. Each subcommand lives in its own module; this file wires them to commander
 * and maps the three kinds of failure to exit statuses: 1 a check that did not hold, 2 bad input
 * (printed as `file:line:col: error: …`, no stack trace), 3 a bug in vmscope.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { describeThrown, InputError, InvariantError } from '../base/errors.js';
import { policyNames } from '../kernel/reclaim/registry.js';
import type { StraceShow } from '../report/strace-report.js';
import { suggest } from '../workload/scenario/parse.js';
import { TRACE_FORMATS } from '../workload/trace/detect.js';
import { COMPRESSIONS, OUTPUT_FORMATS, runConvert } from './convert.js';
import { runExec, SHOW_CHOICES, type ShowChoice } from './exec.js';
import { EXIT_BUG, EXIT_INPUT, EXIT_OK, type Io, processIo } from './io.js';
import { runMallocCommand } from './malloc.js';
import { DEFAULT_THREADS, runMrc } from './mrc.js';
import { countArg, portArg, rateArg, sizeArg, warn } from './options.js';
import { runOstep } from './ostep.js';
import { runPolicyCheck, runPolicyList } from './policy.js';
import { QUIZ_HELP, runQuiz } from './quiz.js';
import { runReplay } from './replay.js';
import { runScenarioFile } from './run.js';
import { runServe } from './serve.js';
import { runStrace, STRACE_SHOW_CHOICES } from './strace.js';
import { runSweep } from './sweep.js';
import { runTour } from './tour.js';
import { csvColumnsArg } from './trace-formats.js';
import { DEFAULT_READ_THREADS } from './trace-input.js';

const VERSION = '0.1.0';

function program(io: Io, setStatus: (s: number) => void): Command {
  const cmd = new Command('vmscope')
    .description(
      "An operating system's memory manager as a simulator: page tables in simulated RAM, an MMU with a TLB, demand paging, Linux-faithful VMAs, brk and mmap.",
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nEach command has its own options: vmscope COMMAND --help (the README describes them all).\nSizes take binary units (64MiB, 4GiB), counts take k and M (32k = 32768), policy names any case.',
    )
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .enablePositionalOptions()
    .exitOverride();

  cmd
    .command('run')
    .description('run a scenario script (*.vms) and narrate every access, fault and syscall')
    .argument('<file>', 'the scenario script')
    .option('--json', 'print one JSON document instead of the narrated log')
    .option('--check', 'validate every kernel invariant after each statement')
    .option('--sysroot <dir>', 'where exec statements find the interpreter named in PT_INTERP', '/')
    .addHelpText(
      'after',
      '\nExit status: 0 when every expect holds, 1 when one fails, 2 on an input error, 3 on a vmscope bug.\nThe scenario language is described in the README (section "Scenario scripts").',
    )
    .action(async (file, opts) =>
      setStatus(
        await runScenarioFile(
          file,
          { json: opts.json ?? false, check: opts.check ?? false, sysroot: opts.sysroot },
          io,
        ),
      ),
    );

  cmd
    .command('exec')
    .description(
      "load a real ELF binary as Linux's execve does and print the process at its first instruction",
    )
    .argument('<binary>', 'the program (its path becomes argv[0] and AT_EXECFN)')
    .argument('[args...]', 'more arguments; put -- before them when they start with -')
    .option(
      '--env <NAME=VALUE>',
      'an environment variable (repeat for more; the environment is empty otherwise)',
      collect,
      [] as string[],
    )
    .option('--sysroot <dir>', 'where to find the interpreter named in PT_INTERP', '/')
    .option(
      '--aslr',
      'randomize the layout as Linux does with randomize_va_space=2 (default: off, like setarch -R)',
    )
    .option('--seed <n>', 'the random seed for --aslr', countArg, 0)
    .addOption(
      new Option('--show <what>', `what to print (repeat for more): ${SHOW_CHOICES.join(', ')}`).argParser(
        collectShow,
      ),
    )
    .addOption(
      new Option('--ram <size>', 'physical memory of the simulated machine')
        .argParser(sizeArg)
        .default(64 * 2 ** 20, '64MiB'),
    )
    .option('--json', 'print one JSON document')
    .passThroughOptions()
    .addHelpText(
      'after',
      '\nBy default it prints /proc/PID/maps exactly as Linux does. Options come before BINARY; everything after it is argv.\nExample: vmscope exec --sysroot ../shared/corpus/elf/sysroot --show maps --show stack ./prog one two',
    )
    .action((binary, args, opts, c) => {
      if (c.getOptionValueSource('seed') === 'cli' && !opts.aslr)
        warn(io, 'exec', '--seed does nothing without --aslr (the layout is not randomized)');
      setStatus(
        runExec(
          binary,
          args,
          {
            env: opts.env,
            sysroot: opts.sysroot,
            aslr: opts.aslr ?? false,
            seed: opts.seed,
            show: opts.show ?? [],
            json: opts.json ?? false,
            ramBytes: opts.ram,
          },
          io,
        ),
      );
    });

  cmd
    .command('replay')
    .description(
      'replay memory traces (lackey, page lists, din, CSV, MSR, libCacheSim txt or oracleGeneral, vmscope; plain, .gz or .zst) through the whole system, or only the policy',
    )
    .argument('<file...>', 'trace files; several replay as several processes, interleaved round-robin')
    .addOption(traceFormatOption())
    .addOption(csvColumnsOption())
    .option(
      '--policy <name>',
      'page-replacement policy: a built-in name in any case (see the list below) or a plug-in module (./my-policy.js)',
      'lru',
    )
    .option(
      '--frames <n>',
      'frames user pages may hold, such as 1024 or 32k (page tables are counted apart)',
      countArg,
      1024,
    )
    .option('--tlb <entries[/ways]>', 'TLB size and associativity', '64/4')
    .addOption(
      lackeyPageSizeOption(
        'page size for page ids of lackey traces, such as 4KiB (a vmscope trace has its own; the full system uses 4 KiB)',
      ),
    )
    .option(
      '--threads <n>',
      'threads: 2 reads and decodes the traces in worker threads while this one simulates; 1 does all here',
      countArg,
      DEFAULT_READ_THREADS,
    )
    .option(
      '--policy-only',
      'only the replacement policy on the page stream: no MMU, TLB or page tables (much faster)',
    )
    .option(
      '--quantum <n>',
      'accesses each process runs before the next one, with several files',
      countArg,
      10_000,
    )
    .addOption(
      new Option('--swap <size>', 'size of the swap device, such as 4GiB (0: none)')
        .argParser(sizeArg)
        .default(4 * 2 ** 30, '4GiB'),
    )
    .option('--seed <n>', 'seed of the random policies', countArg, 0)
    .addOption(
      new Option('--scope <scope>', 'replacement scope: victims from any process, or from the faulting one')
        .choices(['global', 'local'] as const)
        .default('global' as const),
    )
    .addOption(
      new Option(
        '--allocation <how>',
        'with --scope local: equal shares, proportional to footprint, or by page-fault frequency',
      )
        .choices(['equal', 'proportional', 'pff'] as const)
        .default('equal' as const),
    )
    .option(
      '--sweep-mpl',
      'thrashing: replay the first 1, 2, … of the files and report fault rate and utilization per level',
    )
    .option(
      '--fault-cost <accesses>',
      'what a fault costs, in accesses, for the utilization of --sweep-mpl',
      countArg,
      10_000,
    )
    .option('--json', 'print one JSON object (accesses, hits, faults, … and per-process detail)')
    .option(
      '--plot <file.svg>',
      'write a chart: RSS over time (full system) or faults over time (policy only)',
    )
    .addHelpText(
      'after',
      `\nPolicies: ${policyNames.join(', ')}.\nExit status: 0 when every trace was replayed to its end, 1 when a process was killed first (the OOM killer), 2 on bad input.\nExample: vmscope replay --policy clock --frames 64 ../shared/corpus/memtrace/sort.lackey.gz`,
    )
    .action(async (files, opts, c) => {
      const given = (k: string) => c.getOptionValueSource(k) === 'cli';
      const noop = (flag: string, why: string) => warn(io, 'replay', `${flag} does nothing ${why}`);
      if (given('allocation') && opts.scope !== 'local') noop('--allocation', 'without --scope local');
      if (given('faultCost') && !opts.sweepMpl) noop('--fault-cost', 'without --sweep-mpl');
      if (given('quantum') && files.length < 2) noop('--quantum', 'with one trace');
      if (opts.policyOnly) {
        if (given('tlb')) noop('--tlb', 'with --policy-only (there is no TLB)');
        if (given('swap')) noop('--swap', 'with --policy-only (there is no swap device)');
      }
      setStatus(
        await runReplay(
          files,
          {
            format: opts.format,
            ...(opts.csv ? { columns: opts.csv } : {}),
            policy: opts.policy,
            frames: opts.frames,
            tlb: opts.tlb,
            ...(given('pageSize') ? { pageSize: opts.pageSize } : {}),
            threads: opts.threads,
            policyOnly: opts.policyOnly ?? false,
            json: opts.json ?? false,
            ...(opts.plot ? { plot: opts.plot } : {}),
            quantum: opts.quantum,
            swapBytes: opts.swap,
            seed: opts.seed,
            scope: opts.scope,
            allocation: opts.allocation,
            sweepMpl: opts.sweepMpl ?? false,
            faultCost: opts.faultCost,
            seedGiven: given('seed'),
          },
          io,
        ),
      );
    });

  cmd
    .command('convert')
    .description(
      "convert a trace to vmscope's binary format (fast to replay), libCacheSim's oracleGeneral or a page list",
    )
    .argument('<in>', 'the trace (any format replay reads; - for standard input)')
    .argument('<out>', 'the converted trace (- for standard output)')
    .addOption(
      new Option('--from <format>', 'input format (auto: from its first bytes)')
        .choices([...TRACE_FORMATS, 'auto'] as const)
        .default('auto' as const),
    )
    .addOption(csvColumnsOption())
    .addOption(
      new Option('--to <format>', 'output format').choices(OUTPUT_FORMATS).default('vmscope' as const),
    )
    .addOption(
      new Option(
        '--page-size <size>',
        'page size lackey addresses are split into, such as 4KiB (default 4 KiB)',
      ).argParser(sizeArg),
    )
    .addOption(
      new Option('--compress <how>', "compress the output (default: from OUT's name, .zst or .gz)").choices(
        COMPRESSIONS,
      ),
    )
    .option(
      '--threads <n>',
      'threads: 2 decodes the input in a worker thread',
      countArg,
      DEFAULT_READ_THREADS,
    )
    .option('--json', 'print what was converted as JSON')
    .addHelpText(
      'after',
      '\nExample: vmscope convert ../shared/corpus/memtrace/sort.lackey.gz sort.vmt && vmscope replay --policy-only sort.vmt',
    )
    .action(async (input, out, opts) =>
      setStatus(
        await runConvert(
          input,
          out,
          {
            from: opts.from,
            ...(opts.csv ? { columns: opts.csv } : {}),
            to: opts.to,
            ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
            ...(opts.compress === undefined ? {} : { compress: opts.compress }),
            threads: opts.threads,
            json: opts.json ?? false,
          },
          io,
        ),
      ),
    );

  cmd
    .command('mrc')
    .description('miss-ratio curves: the fault rate of each policy at every memory size, from one trace')
    .argument('<file>', 'a trace (any format replay reads; plain, .gz or .zst)')
    .option(
      '--policies <list>',
      'comma-separated policies: built-in names in any case, or plug-in modules (./my-policy.js)',
      'lru,fifo,clock,opt',
    )
    .option(
      '--frames <range>',
      "sizes: LO..HI (every size; LO..HI/x2 powers of two, LO..HI/+N a step), a list such as 16,24,32, or log-spaced (the default: powers of two up to the trace's footprint)",
    )
    .addOption(traceFormatOption())
    .addOption(csvColumnsOption())
    .addOption(
      lackeyPageSizeOption(
        'page size for the page ids of lackey traces, such as 4KiB (a vmscope trace has its own)',
      ),
    )
    .option(
      '--threads <n>',
      'worker threads for the policies simulated size by size (at least 1)',
      countArg,
      DEFAULT_THREADS,
    )
    .option('--seed <n>', 'seed of the random policies', countArg, 0)
    .option(
      '--sample <rate>',
      'estimate the curves from a spatial sample of the pages at this rate (SHARDS for LRU, miniature simulations for the others), such as 0.01',
      rateArg,
    )
    .option(
      '--sample-size <n>',
      'estimate the curves from a sample of at most N distinct pages (fixed-size SHARDS; exact while the footprint fits)',
      countArg,
    )
    .option('--table <file.csv>', 'write policy,frames,faults,miss_ratio rows')
    .option('--plot <file>', 'write the curves as a chart: .svg, or .png (rendered at twice the size)')
    .option('--json', 'print the curves as JSON')
    .addHelpText(
      'after',
      '\nLRU is exact in one pass (Mattson stack distances over a Fenwick tree); OPT too (a priority stack over\nnext-use times, after a first pass); the others run one simulation per size across --threads workers.\nWith --sample or --sample-size the curves are estimates from one pass over a sample (sizes under about\n1/rate frames are not resolved).',
    )
    .action(async (file, opts, c) =>
      setStatus(
        await runMrc(
          file,
          {
            policies: opts.policies,
            format: opts.format,
            ...(c.getOptionValueSource('pageSize') === 'cli' ? { pageSize: opts.pageSize } : {}),
            json: opts.json ?? false,
            ...(opts.table ? { table: opts.table } : {}),
            ...(opts.csv ? { columns: opts.csv } : {}),
            ...(opts.plot ? { plot: opts.plot } : {}),
            ...(opts.frames !== undefined ? { frames: opts.frames } : {}),
            threads: opts.threads,
            seed: opts.seed,
            ...(opts.sample !== undefined ? { sample: opts.sample } : {}),
            ...(opts.sampleSize !== undefined ? { sampleSize: opts.sampleSize } : {}),
          },
          io,
        ),
      ),
    );

  cmd
    .command('sweep')
    .description(
      'miss ratios over a grid of traces × policies × sizes on worker threads; resumable, and sharded for job arrays',
    )
    .option(
      '--traces <list>',
      'comma-separated trace files (regular files: every cell reads its trace again)',
    )
    .option(
      '--policies <list>',
      'comma-separated policies: built-in names in any case, or plug-in modules (./my-policy.js)',
    )
    .option(
      '--frames <sizes>',
      "sizes, as mrc takes them: LO..HI (every size; LO..HI/x2 powers of two, LO..HI/+N a step), a list such as 16,24,32, or log-spaced (each trace's powers of two up to its footprint)",
      'log-spaced',
    )
    .addOption(traceFormatOption())
    .addOption(csvColumnsOption())
    .addOption(
      lackeyPageSizeOption(
        'page size for the page ids of lackey traces, such as 4KiB (a vmscope trace has its own)',
      ),
    )
    .option(
      '--threads <n>',
      'worker threads, one cell (trace × policy) each at a time',
      countArg,
      DEFAULT_THREADS,
    )
    .option('--seed <n>', 'seed of the random policies (the same for every cell)', countArg, 0)
    .option('--out <dir>', 'keep each cell in DIR as it is done (a rerun skips those), and the table')
    .option('--shard <i/n>', 'compute only the I-th of N slices of the cells (1 <= I <= N; needs --out)')
    .option('--merge <dir>', 'join the cells in DIR (from --out) into the table; exit 1 if cells are missing')
    .option('--json', 'print the table as JSON')
    .option(
      '--table <file.csv>',
      "write the table as CSV (trace,format,policy,frames,accesses,faults,miss_ratio); '-' prints it",
    )
    .option('--plot <file>', 'write a chart of the curves, one line per trace × policy (.svg or .png)')
    .option('--quiet', 'no progress bar and no notes on stderr')
    .addHelpText(
      'after',
      '\nA cell is one trace × one policy: all its sizes in one pass. Cells are numbered in sorted order (trace, then\npolicy); --shard I/N takes those whose number is I-1 modulo N, so the same command is the body of a job array\n(the README shows Slurm, Kubernetes and GNU parallel). Exit status: 0 done, 1 --merge found cells missing, 2 bad input.',
    )
    .action(async (opts, c) =>
      setStatus(
        await runSweep(
          {
            ...(opts.traces === undefined ? {} : { traces: opts.traces }),
            ...(opts.policies === undefined ? {} : { policies: opts.policies }),
            ...(c.getOptionValueSource('frames') === 'cli' ? { frames: opts.frames } : {}),
            format: opts.format,
            ...(opts.csv ? { columns: opts.csv } : {}),
            ...(c.getOptionValueSource('pageSize') === 'cli' ? { pageSize: opts.pageSize } : {}),
            threads: opts.threads,
            seed: opts.seed,
            ...(opts.out === undefined ? {} : { out: opts.out }),
            ...(opts.shard === undefined ? {} : { shard: opts.shard }),
            ...(opts.merge === undefined ? {} : { merge: opts.merge }),
            json: opts.json ?? false,
            ...(opts.table === undefined ? {} : { table: opts.table }),
            ...(opts.plot === undefined ? {} : { plot: opts.plot }),
            quiet: opts.quiet ?? false,
          },
          io,
        ),
      ),
    );

  cmd
    .command('malloc')
    .description(
      'replay allocation traces (CMU malloc-lab .rep, plain, .gz or .zst) through malloc implementations running in a simulated process',
    )
    .argument('<trace...>', 'allocation traces')
    .option(
      '--allocator <name>',
      'first-fit, next-fit, best-fit, worst-fit, segregated, buddy, tlsf, binned (repeat for more; default all)',
      collect,
      [] as string[],
    )
    .option('--check', 'walk the whole heap after every operation')
    .option(
      '--allow-misuse',
      'replay a double free or a realloc after free into the allocator (the program dies as under glibc) instead of refusing the trace',
    )
    .option('--wide', 'every column in the table (largest free block, VmRSS, VmData, speed, glibc addresses)')
    .option('--json', 'print an array with one object per allocator and trace')
    .option('--plot <file.svg>', 'write a chart of heap extent and live bytes over time')
    .addOption(
      new Option(
        '--mode <mode>',
        'kernel: metadata through the MMU of a simulated process; direct: on a plain buffer',
      )
        .choices(['kernel', 'direct'] as const)
        .default('kernel' as const),
    )
    .addOption(
      new Option('--ram <size>', 'physical memory of the simulated machine in kernel mode')
        .argParser(sizeArg)
        .default(512 * 2 ** 20, '512MiB'),
    )
    .addHelpText(
      'after',
      "\nReports utilization (peak live payload / peak heap extent), fragmentation, the largest free block, brk and mmap calls,\nVmRSS and VmData at peak and at end, and operations per second. Misuse (double free, bad pointer, corrupted header)\nis reported in glibc's words and the process gets SIGABRT.",
    )
    .action(async (traces, opts, c) => {
      if (c.getOptionValueSource('ram') === 'cli' && opts.mode === 'direct')
        warn(io, 'malloc', '--ram does nothing with --mode direct (there is no machine)');
      setStatus(
        await runMallocCommand(
          traces,
          {
            allocator: opts.allocator,
            json: opts.json ?? false,
            check: opts.check ?? false,
            plot: opts.plot,
            mode: opts.mode,
            ramBytes: opts.ram,
            allowMisuse: opts.allowMisuse ?? false,
            wide: opts.wide ?? false,
          },
          io,
        ),
      );
    });

  const policy = cmd
    .command('policy')
    .description(
      'replacement policies: list the built-in ones, check a plug-in against the conformance suite',
    );
  policy
    .command('check')
    .description(
      'run the conformance suite the built-in policies pass (and an exactness check against a naive reference, when there is one)',
    )
    .argument('<policy>', 'a plug-in module (./my-policy.js) or a built-in name')
    .option('--seed <n>', 'seed of the random call sequences', countArg, 1)
    .option('--effort <n>', 'multiply the number of random runs', countArg, 1)
    .option('--json', 'print the checks as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 when every check passes, 1 when one fails, 2 when the module cannot be loaded or has the wrong shape.',
    )
    .action(async (spec, opts) =>
      setStatus(
        await runPolicyCheck(spec, { seed: opts.seed, effort: opts.effort, json: opts.json ?? false }, io),
      ),
    );
  policy
    .command('list')
    .description('the built-in policies: name, what they need from the hardware, their rule')
    .option('--json', 'print them as JSON')
    .action((opts) => setStatus(runPolicyList(opts.json ?? false, io)));

  cmd
    .command('quiz')
    .description('a seeded problem on a topic OSTEP lacks (tlb, mmap); -c answers it with the simulator')
    .argument('<topic>', 'tlb or mmap')
    .option('-s, --seed <n>', 'the random seed', '0')
    .option('-c, --compute', 'compute answers for me')
    .addHelpText('after', QUIZ_HELP)
    .action((topic, opts) =>
      setStatus(runQuiz(topic, { seed: opts.seed, compute: opts.compute ?? false }, io)),
    );

  cmd
    .command('ostep')
    .description("OSTEP's virtual-memory homework scripts, byte for byte, with --explain and --open")
    .argument(
      '[script]',
      'relocation, segmentation, paging-linear-translate, paging-multilevel-translate, paging-policy, malloc',
    )
    .argument('[args...]', "vmscope's --explain/--open, then the script's own flags (-s SEED -c …)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .action(async (script, args) =>
      setStatus(await runOstep(script === undefined ? [] : [script, ...args], io)),
    );

  cmd
    .command('strace')
    .description(
      "replay a real program's strace log through the kernel and check every memory call against Linux's result",
    )
    .argument('<log>', 'the log of strace -f -y -v -s 4096 -o LOG PROG ARGS… (plain, .gz or .zst)')
    .option(
      '--sysroot <dir>',
      "the recorded machine's files: the program at its execve path, its interpreter",
      '/',
    )
    .option(
      '--exe <file>',
      "the program the log's first execve ran, when the sysroot does not have it (.gz allowed)",
    )
    .option(
      '--cwd <dir>',
      'the working directory the log was recorded in, for a relative execve path (default: this one with --sysroot /)',
    )
    .option(
      '--env <NAME=VALUE>',
      'the environment, when the log shows only its size (repeat for more)',
      collect,
      [] as string[],
    )
    .option(
      '--at <where>',
      'stop after log line N, or after the K-th call NAME (mmap#12), and show the state there',
    )
    .option(
      '--pid <pid>',
      'show only this process of the log (and count --at NAME#K among its calls)',
      countArg,
    )
    .addOption(
      new Option(
        '--show <what>',
        `print /proc files of the processes at exit or at --at (repeat): ${STRACE_SHOW_CHOICES.join(', ')}`,
      ).argParser(collectStraceShow),
    )
    .option('--strict', "stop at the first divergence instead of carrying on from Linux's result")
    .option('--json', 'print one JSON document (syscalls, agree, divergences, processes with their maps…)')
    .option('--plot <file.svg>', "write a chart of VmSize and VmRSS over the log's calls")
    .option('--check', 'validate every kernel invariant after every call (slow)')
    .addOption(
      new Option(
        '--ram <size>',
        "physical memory of the simulated machine (default: the recorded machine's, when the log shows it by sysinfo or /proc/meminfo, at most 4GiB; else 256MiB)",
      ).argParser(sizeArg),
    )
    .addHelpText(
      'after',
      '\nRecord a log with ASLR off for the process: setarch -R strace -f -y -v -s 4096 -o LOG PROG ARGS…\nExit status: 0 when every replayed call agreed, 1 when some diverged, 2 on an input error, 3 on a vmscope bug.\nExample: vmscope strace --sysroot ../shared/corpus/elf/sysroot --exe ../shared/corpus/elf/hello-pie/prog.gz ../shared/corpus/strace/hello-pie/strace.txt',
    )
    .action(async (log, opts) =>
      setStatus(
        await runStrace(
          log,
          {
            sysroot: opts.sysroot,
            exe: opts.exe ?? null,
            cwd: opts.cwd ?? null,
            env: opts.env,
            at: opts.at ?? null,
            pid: opts.pid ?? null,
            show: opts.show ?? [],
            strict: opts.strict ?? false,
            json: opts.json ?? false,
            plot: opts.plot ?? null,
            check: opts.check ?? false,
            ramBytes: opts.ram ?? null,
          },
          io,
        ),
      ),
    );

  cmd
    .command('serve')
    .description('serve the browser visualizer on 127.0.0.1 (npm start runs this)')
    .argument('[file]', 'a scenario to open (default: the bundled tour)')
    .option('--port <n>', 'TCP port, 0 to 65535 (0 picks a free one)', portArg, 8080)
    .action(async (file, opts) => setStatus(await runServe(file, { port: opts.port }, io)));

  cmd
    .command('tour')
    .description('run the bundled examples, one for each duty of the memory manager')
    .option('--check', 'validate every kernel invariant after each statement')
    .option(
      '--brief',
      "the lesson (each example's comments) and each statement's result, without the narration of every event",
    )
    .action((opts) => setStatus(runTour({ check: opts.check ?? false, brief: opts.brief ?? false }, io)));

  return cmd;
}

/** --format of a command that reads traces (replay, mrc, sweep). */
function traceFormatOption() {
  return new Option('--format <format>', 'trace format (auto: from its first bytes)')
    .choices([...TRACE_FORMATS, 'auto'] as const)
    .default('auto' as const);
}

/** --csv: the columns of a CSV trace, for every command that reads traces. */
function csvColumnsOption() {
  return new Option(
    '--csv <columns>',
    "the columns of a CSV trace, in order, such as 'time,addr,op' (implies --format csv; see the README)",
  ).argParser(csvColumnsArg);
}

/** --page-size of the commands that split lackey addresses into pages, 4 KiB unless given. */
function lackeyPageSizeOption(description: string) {
  return new Option('--page-size <size>', description).argParser(sizeArg).default(4096, '4KiB');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--show` repeated: each value checked against the choices as it is parsed (before anything runs). */
function collectShow(value: string, previous: ShowChoice[] | undefined): ShowChoice[] {
  const choice = SHOW_CHOICES.find((c) => c === value);
  if (choice === undefined) {
    const hint = suggest(value, SHOW_CHOICES);
    throw new InvalidArgumentError(
      `expected one of ${SHOW_CHOICES.join(', ')}, got '${value}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
    );
  }
  return [...(previous ?? []), choice];
}

/** `vmscope strace --show` repeated, checked against its choices as it is parsed. */
function collectStraceShow(value: string, previous: StraceShow[] | undefined): StraceShow[] {
  const choice = STRACE_SHOW_CHOICES.find((c) => c === value);
  if (choice === undefined) {
    const hint = suggest(value, STRACE_SHOW_CHOICES);
    throw new InvalidArgumentError(
      `expected one of ${STRACE_SHOW_CHOICES.join(', ')}, got '${value}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
    );
  }
  return [...(previous ?? []), choice];
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let status = EXIT_OK;
  const cmd = program(io, (s) => {
    status = s;
  });
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_INPUT;
    if (e instanceof InputError) {
      io.err(`${e.format()}\n`);
      return EXIT_INPUT;
    }
    if (e instanceof InvariantError) {
      io.err(`vmscope: internal error (a bug in vmscope, please report it): ${e.message}\n`);
      return EXIT_BUG;
    }
    io.err(`vmscope: internal error (a bug in vmscope, please report it): ${describeThrown(e)}\n`);
    return EXIT_BUG;
  }
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Runs the command line of this process, as the `vmscope` program (launch.ts, or this file run directly). */
export function runAsCommand(): void {
  // `vmscope run x.vms | head` closes the pipe early: stop quietly, as other Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
  });
}

if (isMainModule()) runAsCommand();
