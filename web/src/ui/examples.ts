/**
 * The scenarios bundled into the app at build time: the default tour (web/scenarios/default.vms)
 * and every example of examples/, one click away.
 */
import defaultText from '../../scenarios/default.vms?raw';

export interface Example {
  /** File name without `.vms` (`02-paging`); the default tour is `tour`. */
  readonly name: string;
  /** The first comment line. */
  readonly title: string;
  readonly text: string;
}

const files = import.meta.glob('../../../examples/*.vms', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

function titleOf(text: string, fallback: string): string {
  return /^#\s*(.+)$/m.exec(text)?.[1]?.trim() ?? fallback;
}

export const DEFAULT_EXAMPLE: Example = {
  name: 'tour',
  title: titleOf(defaultText, 'tour'),
  text: defaultText,
};

export const EXAMPLES: readonly Example[] = [
  DEFAULT_EXAMPLE,
  ...Object.entries(files)
    .map(([path, text]) => {
      const name = path.replace(/^.*\//, '').replace(/\.vms$/, '');
      return { name, title: titleOf(text, name), text };
    })
    .sort((a, b) => a.name.localeCompare(b.name)),
];

export function exampleByName(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}

/** The example whose text is exactly `text`, if any. */
export function exampleWithText(text: string): Example | undefined {
  return EXAMPLES.find((e) => e.text === text);
}
