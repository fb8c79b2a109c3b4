/**
 * Reading what a person drops or picks: loose files, and folders walked to their files (each keeps
 * its path inside the folder, the folder's name first, so that a folder can act as a sysroot). What
 * a file is comes from its first bytes — after gunzipping, so a `prog.gz` is an ELF program and a
 * `strace.txt.gz` a log — never from its name.
 */
import { detectInputKind, type InputKind } from '../../../src/workload/kind.js';

/** A file dropped or picked: `path` is its name, or its path inside a dropped folder. */
export interface Picked {
  readonly file: File;
  readonly path: string;
}

/** A picked file once its first bytes were read. */
export interface Classified extends Picked {
  /** What its (decompressed) first bytes are. */
  readonly kind: InputKind;
  /** Gzip-compressed on disk. */
  readonly gzip: boolean;
  /** The name without a `.gz` that was gunzipped. */
  readonly name: string;
  /** Inside a dropped folder. */
  readonly inFolder: boolean;
}

const HEAD_BYTES = 65536;

function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

function gunzipStream(blob: Blob): ReadableStream<Uint8Array> {
  return blob
    .stream()
    .pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
}

/** The first `limit` bytes of a gzip file's content (fewer if it is shorter), or null if it is not gzip. */
async function gunzipHead(blob: Blob, limit: number): Promise<Uint8Array | null> {
  const reader = gunzipStream(blob).getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    if (n === 0) return null; // a damaged stream: whoever reads it whole says so
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(Math.min(n, limit));
  let at = 0;
  for (const p of parts) {
    const take = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, take), at);
    at += take;
    if (at === out.length) break;
  }
  return out;
}

/** What a picked file is, from its first bytes (gunzipped first when it is gzip). */
export async function classify(p: Picked): Promise<Classified> {
  const raw = new Uint8Array(await p.file.slice(0, HEAD_BYTES).arrayBuffer());
  const gzip = isGzip(raw);
  const head = gzip ? await gunzipHead(p.file, HEAD_BYTES) : raw;
  const stripped = gzip ? p.path.replace(/\.gz$/, '') : p.path;
  const kind = head === null ? 'unknown' : detectInputKind(head, stripped);
  // A gzip file keeps its name when it is a trace: the Traces tab gunzips it as it streams.
  const named = gzip && (kind === 'elf' || kind === 'strace' || kind === 'scenario') ? stripped : p.path;
  return { ...p, kind, gzip, name: named, inFolder: p.path.includes('/') };
}

/** A picked file's whole content, gunzipped when it is gzip. */
export async function contentOf(c: Classified): Promise<Uint8Array> {
  if (!c.gzip) return new Uint8Array(await c.file.arrayBuffer());
  return new Uint8Array(await new Response(gunzipStream(c.file)).arrayBuffer());
}

/** The files of a file picker: a folder picked (`webkitdirectory`) gives each its relative path. */
export function pickedFiles(list: FileList): Picked[] {
  return [...list].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * The files of a drop, folders walked. The entries must be taken while the drop event runs (the
 * DataTransfer empties after it); the walk itself may come later.
 */
export function droppedEntries(dt: DataTransfer): { entries: FileSystemEntry[]; files: File[] } {
  const entries: FileSystemEntry[] = [];
  for (const item of dt.items) {
    const entry = item.kind === 'file' ? item.webkitGetAsEntry?.() : null;
    if (entry) entries.push(entry);
  }
  return { entries, files: [...dt.files] };
}

/** Folders hold at most this many files for the page (a dropped / would not fit in memory). */
export const FOLDER_FILE_LIMIT = 4096;

export async function walkEntries(entries: readonly FileSystemEntry[]): Promise<Picked[]> {
  const out: Picked[] = [];
  const visit = async (entry: FileSystemEntry): Promise<void> => {
    if (out.length >= FOLDER_FILE_LIMIT) return;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      out.push({ file, path: entry.fullPath.replace(/^\//, '') });
      return;
    }
    if (!entry.isDirectory) return;
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries hands out a directory's entries in batches, until an empty one.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (batch.length === 0) break;
      for (const e of batch) await visit(e);
    }
  };
  for (const e of entries) await visit(e);
  return out;
}
