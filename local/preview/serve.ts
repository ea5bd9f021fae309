// Serves the notice previews that `npm run preview` wrote, at /previews/ on the local runtime's port.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_PREVIEW_DIR = fileURLToPath(new URL('../../preview/', import.meta.url));
export const PREVIEW_PATH = '/previews/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
};

/** Answers a GET under /previews/; files outside the preview folder are never served. */
export function servePreviews(pathname: string, res: ServerResponse, dir = DEFAULT_PREVIEW_DIR): void {
  // The index links relatively ("en-GB/Notice1.html"), so it must be read from the folder's URL.
  if (!pathname.startsWith(PREVIEW_PATH)) {
    res.writeHead(308, { location: PREVIEW_PATH });
    res.end();
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(PREVIEW_PATH.length)) || 'index.html';
  } catch {
    relative = '';
  }
  const file = normalize(join(dir, relative));
  if (!file.startsWith(normalize(dir + sep)) || !TYPES[extname(file)] || !existsSync(file) || !statSync(file).isFile()) {
    const missing = !existsSync(join(dir, 'index.html'));
    res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(missing ? '<!doctype html><p>No previews yet: run <code>npm run preview</code>, then reload.</p>' : '<!doctype html><p>Not found.</p>');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)]! });
  res.end(readFileSync(file));
}
