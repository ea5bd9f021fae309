// The ports stay small: a use case that needs one role gets an interface of a few members, and a
// fake in a test is a few lines. Each port in shared/domain is counted as the compiler parses it. A
// port is an interface with methods; records (DunningCase, InvoiceSnapshot…) are data, not ports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const DOMAIN = join(import.meta.dirname, '../../shared/domain');
const MAX_MEMBERS = 12;

/** A method, or a property whose type is a function. */
function isOperation(member: ts.TypeElement): boolean {
  return ts.isMethodSignature(member) || (ts.isPropertySignature(member) && member.type !== undefined && ts.isFunctionTypeNode(member.type));
}

/** Every port declared in shared/domain, with its own member count (methods and any properties). */
function domainPorts(): { name: string; file: string; members: number }[] {
  const found: { name: string; file: string; members: number }[] = [];
  for (const file of readdirSync(DOMAIN).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(DOMAIN, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      // An interface, or an object type written as an alias: both can grow into a god port.
      const members = ts.isInterfaceDeclaration(node) ? node.members : ts.isTypeAliasDeclaration(node) && ts.isTypeLiteralNode(node.type) ? node.type.members : undefined;
      if (members?.some(isOperation)) found.push({ name: (node as ts.InterfaceDeclaration | ts.TypeAliasDeclaration).name.text, file, members: members.length });
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('the ports in shared/domain', () => {
  it(`has no port of more than ${MAX_MEMBERS} members`, () => {
    const tooBig = domainPorts().filter((i) => i.members > MAX_MEMBERS).map((i) => `${i.file}: ${i.name} has ${i.members}`);
    expect(tooBig).toEqual([]);
  });

  it('counts the store and Stripe ports, and not the records', () => {
    const names = domainPorts().map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['Cases', 'CaseClaims', 'Banners', 'Suppressions', 'HeadsUps', 'Timeline', 'Invoices', 'Subscriptions', 'Customers']));
    expect(names).not.toContain('DunningCase');
  });
});
