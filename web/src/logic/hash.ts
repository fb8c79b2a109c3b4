/**
 * The page's state in its URL, so that a link shares it: the scenario (the name of a bundled
 * example, or the text itself deflated and base64url-encoded), the position, and the selected
 * address. Everything after `#`, so nothing of it reaches the server.
 *
 *   #ex=02-paging&p=5&a=1:0x1240
 *   #s=<deflate-raw, base64url>&p=12
 */

export interface HashState {
  /** A bundled example's name. */
  readonly example: string | null;
  /** The scenario text, still encoded (decode with {@link decodeText}). */
  readonly encoded: string | null;
  readonly position: number | null;
  readonly address: { readonly pid: number; readonly va: number } | null;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  try {
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** The scenario text as a URL-safe string (deflate-raw, base64url). */
export async function encodeText(text: string): Promise<string> {
  return toBase64Url(await pipe(new TextEncoder().encode(text), new CompressionStream('deflate-raw')));
}

/** The text {@link encodeText} encoded, or null when the string is not such an encoding. */
export async function decodeText(encoded: string): Promise<string | null> {
  const bytes = fromBase64Url(encoded);
  if (bytes === null) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(
      await pipe(bytes, new DecompressionStream('deflate-raw')),
    );
  } catch {
    return null;
  }
}

/** Reads `location.hash` (with or without the `#`); anything malformed is left out. */
export function parseHash(hash: string): HashState {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const ex = params.get('ex');
  const s = params.get('s');
  const p = params.get('p');
  const a = params.get('a');
  const position = p !== null && /^\d{1,9}$/.test(p) ? Number(p) : null;
  let address: HashState['address'] = null;
  const m = a === null ? null : /^(\d{1,9}):0x([0-9a-f]{1,16})$/i.exec(a);
  if (m) {
    const va = Number.parseInt(m[2]!, 16);
    if (Number.isSafeInteger(va)) address = { pid: Number(m[1]), va };
  }
  return {
    example: ex !== null && /^[\w.-]{1,64}$/.test(ex) ? ex : null,
    encoded: s !== null && s.length > 0 ? s : null,
    position,
    address,
  };
}

/** The hash for a state (without `#`). `encoded` is used only when `example` is null. */
export function formatHash(state: HashState): string {
  const parts: string[] = [];
  if (state.example !== null) parts.push(`ex=${state.example}`);
  else if (state.encoded !== null) parts.push(`s=${state.encoded}`);
  if (state.position !== null) parts.push(`p=${state.position}`);
  if (state.address !== null) parts.push(`a=${state.address.pid}:0x${state.address.va.toString(16)}`);
  return parts.join('&');
}
