/**
 * Keyboard stepping. Outside the editor: arrows step, Shift+arrows jump 10, Home/End go to the
 * ends, Space plays, `a` types an address, `e` edits, `?` helps. In the editor only Ctrl/Cmd+Enter
 * (run) and Escape (leave the editor) are taken, so typing stays typing.
 */

export type KeyAction =
  | { readonly kind: 'step'; readonly by: number }
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'play' }
  | { readonly kind: 'run' }
  | { readonly kind: 'leave' }
  | { readonly kind: 'help' }
  | { readonly kind: 'address' }
  | { readonly kind: 'edit' };

export interface KeyInput {
  readonly key: string;
  readonly shiftKey: boolean;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  /** The key went to a text field. */
  readonly inText: boolean;
}

export const KEY_HELP: ReadonlyArray<readonly [string, string]> = [
  ['→ / ←', 'one step forward / back'],
  ['Shift+→ / Shift+←, PgDn / PgUp', '10 steps'],
  ['Home / End', 'to boot / to the end'],
  ['Space', 'play / pause'],
  ['Ctrl+Enter', 'run the scenario in the editor'],
  ['e', 'edit the scenario'],
  ['Esc', 'leave the editor'],
  ['a', 'type an address to walk'],
  ['?', 'this help'],
];

export function keyAction(k: KeyInput): KeyAction | null {
  if ((k.ctrlKey || k.metaKey) && k.key === 'Enter') return { kind: 'run' };
  if (k.inText) return k.key === 'Escape' ? { kind: 'leave' } : null;
  if (k.ctrlKey || k.metaKey || k.altKey) return null;
  switch (k.key) {
    case 'ArrowRight':
      return { kind: 'step', by: k.shiftKey ? 10 : 1 };
    case 'ArrowLeft':
      return { kind: 'step', by: k.shiftKey ? -10 : -1 };
    case 'PageDown':
      return { kind: 'step', by: 10 };
    case 'PageUp':
      return { kind: 'step', by: -10 };
    case 'Home':
      return { kind: 'first' };
    case 'End':
      return { kind: 'last' };
    case ' ':
      return { kind: 'play' };
    case '?':
      return { kind: 'help' };
    case 'a':
      return { kind: 'address' };
    case 'e':
      return { kind: 'edit' };
    case 'Escape':
      return { kind: 'leave' };
    default:
      return null;
  }
}
