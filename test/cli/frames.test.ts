import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/base/errors.js';
import { parseFrames } from '../../src/cli/frames.js';
import { bufferIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const SYNTAX =
  'expected --frames LO..HI, LO..HI/x2, LO..HI/+STEP, a list such as 16,24,32, or log-spaced (sizes 1..67,108,864)';

function refusal(text: string): string {
  try {
    parseFrames(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).format()).toMatch(/^--frames: error: /);
    return (e as InputError).format();
  }
  throw new Error(`'${text}' was accepted`);
}

describe('--frames, one syntax for mrc and sweep', () => {
  test('ranges: every size, powers of two with both ends, a step ending at HI', () => {
    expect(parseFrames('1..6')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseFrames('3..40/x2')).toEqual([3, 4, 8, 16, 32, 40]);
    expect(parseFrames('2..9/+3')).toEqual([2, 5, 8, 9]);
    expect(parseFrames(' 16..64k/x2 ')!.at(-1)).toBe(65536);
    expect(parseFrames('5..5')).toEqual([5]);
  });

  test('a list is sorted, each size once; log-spaced is the default (null: each trace its own)', () => {
    expect(parseFrames('64, 16,32,16')).toEqual([16, 32, 64]);
    expect(parseFrames('0x10,1k')).toEqual([16, 1024]);
    expect(parseFrames('7')).toEqual([7]);
    expect(parseFrames('log-spaced')).toBeNull();
  });

  test("sweep's first spellings read as the canonical ones", () => {
    expect(parseFrames('1:64:1')).toEqual(parseFrames('1..64'));
    expect(parseFrames('4:100:x2')).toEqual(parseFrames('4..100/x2'));
    expect(parseFrames('2:20:5')).toEqual(parseFrames('2..20/+5'));
    expect(parseFrames('2:20')).toEqual(parseFrames('2..20'));
  });

  test.each([
    ['64..8', 'LO must be at least 1 and at most HI'],
    ['0..8', 'LO must be at least 1 and at most HI'],
    ['1..2^30', "'2^30' is not a number"],
    ['1..128M', 'HI is more than 67,108,864'],
    ['1..8/+0', 'the step must be at least 1'],
    ['1..8/x3', "'1..8/x3' is not a number"],
    ['1..1M', 'more than 100,000 sizes: give a step (LO..HI/x2)'],
    ['16,,32', 'an empty size in the list'],
    ['16,0', 'every size must be from 1 to 67,108,864'],
    ['64MiB', "'64MiB' is not a number"],
    ['', ''],
  ])("'%s' is refused: %s", (text, why) => {
    expect(refusal(text)).toBe(`--frames: error: ${SYNTAX}, got '${text}'${why ? `: ${why}` : ''}`);
  });

  test.each(['mrc', 'sweep'])(
    '%s refuses bad --frames with the canonical syntax and exit status 2, before reading a trace',
    async (command) => {
      const io = bufferIo();
      const argv =
        command === 'mrc'
          ? ['mrc', '--frames', '8:2', 'no-such.pages']
          : ['sweep', '--traces', 'no-such.pages', '--frames', '8:2'];
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr).toBe(`--frames: error: ${SYNTAX}, got '8:2': LO must be at least 1 and at most HI\n`);
      expect(io.stdout).toBe('');
    },
  );
});
