/** Runs the vmscope command in this process, as the tests of its commands do. */
import { bufferIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/** `vmscope ARGV…`: its exit status and what it wrote to standard output and standard error. */
export async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const io = bufferIo();
  const status = await main(argv, io);
  return { status, out: io.stdout, err: io.stderr };
}
