import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePreviews } from '#local/preview/serve.ts';

let root: string;
let servers: Server[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'notices-serve-'));
  mkdirSync(join(root, 'preview', 'fr-FR'), { recursive: true });
  writeFileSync(join(root, 'preview', 'index.html'), '<p>index</p>');
  writeFileSync(join(root, 'preview', 'fr-FR', 'Notice1.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(root, 'secret.txt'), 'do not serve');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(root, { recursive: true, force: true });
});

async function serve(dir: string): Promise<string> {
  const server = createServer((req, res) => servePreviews(new URL(req.url ?? '/', 'http://x').pathname, res, dir));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe('the local runtime’s /previews/', () => {
  it('serves the index and the screenshots npm run preview wrote', async () => {
    const base = await serve(join(root, 'preview'));

    const index = await fetch(`${base}/previews/`);
    const png = await fetch(`${base}/previews/fr-FR/Notice1.png`);

    expect([index.status, await index.text()]).toEqual([200, '<p>index</p>']);
    expect([png.status, png.headers.get('content-type')]).toEqual([200, 'image/png']);
  });

  it('redirects /previews to the folder, so the index’s relative links work', async () => {
    const base = await serve(join(root, 'preview'));

    const res = await fetch(`${base}/previews`, { redirect: 'manual' });

    expect([res.status, res.headers.get('location')]).toEqual([308, '/previews/']);
  });

  it('never serves a file outside the preview folder', async () => {
    const base = await serve(join(root, 'preview'));

    const res = await fetch(`${base}/previews/..%2fsecret.txt`);

    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('do not serve');
  });

  it('says how to make the previews when there are none', async () => {
    const base = await serve(join(root, 'nothing-here'));

    const res = await fetch(`${base}/previews/`);

    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run preview');
  });
});
