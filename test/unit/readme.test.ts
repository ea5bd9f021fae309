// The README is the front door: every picture it shows must exist in the repository, and every link
// it and the pages under docs/ hold must lead somewhere: a heading of the page, or a file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
const PAGES = ['README.md', ...readdirSync(`${ROOT}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** The links of a page that are not web addresses: `[text](target)`, outside code blocks. */
function localLinks(markdown: string): string[] {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|mailto:)/.test(t));
}

describe('docs/ARCHITECTURE.md', () => {
  const page = readFileSync(`${ROOT}docs/ARCHITECTURE.md`, 'utf8');

  it('is linked from the README', () => {
    expect(localLinks(readme)).toContain('docs/ARCHITECTURE.md');
  });

  it('names only paths that exist', () => {
    const named = [...page.matchAll(/`((?:shared|functions|infra|cli|local|packages|test)\/[^`\s<>…]*)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});

describe('README', () => {
  it('shows a screenshot of the banner and of each email', () => {
    for (const name of ['PreDunning', 'Notice1', 'Notice2', 'Notice3', 'ActionRequired', 'Recovered', 'Terminate']) {
      expect(images, name).toContain(`docs/screenshots/email-${name}.png`);
    }
    expect(images.filter((path) => path.includes('/banner-'))).toHaveLength(4);
  });

  it('links only images that are in the repository', () => {
    const missing = images.filter((path) => !/^https?:/.test(path) && !existsSync(`${ROOT}${path}`));
    expect(missing).toEqual([]);
  });

  it('keeps the two commands at the top, then a table of contents', () => {
    const top = readme.slice(0, readme.indexOf('\n## '));
    expect(top).toContain('npm start');
    expect(top).toContain('npm test');
    expect(readme.indexOf('## Contents')).toBe(readme.indexOf('\n## ') + 1);
  });

  it('runs quickstart, customers, policy, deploy, operate, reference, in that order', () => {
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(['Contents', 'Quickstart', 'What your customers see', 'Change the policy', 'Deploy to AWS', 'Operate it', 'Reference']);
  });

  it.each(PAGES)('%s: every link leads to a heading of its page or to a file that exists', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const link of localLinks(text)) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? join(dirname(join(ROOT, page)), path) : join(ROOT, page);
      if (!existsSync(target)) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchorsIn(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});
