// Counts what Step Functions Standard bills per execution: every state entered, walked from StartAt
// through Next, Choice rules and Default, for one path a case can take through the definition.
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';

export interface PathSpec {
  /** Picks the branch of a Choice state (its next state's name); the walker has no execution data. */
  choose: (choiceName: string, state: ChoiceState) => string;
  /** The execution is stopped while in this state (e.g. a Wait during which the invoice was paid). */
  stopIn?: string;
}

export interface ChoiceState {
  Type: 'Choice';
  Choices: Array<{ Next: string } & Record<string, unknown>>;
  Default?: string;
}

/** The states entered, in order; its length is the number of billed state transitions. */
export function walkPath(definition: StateMachineDefinition, path: PathSpec): string[] {
  const entered: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: Record<string, unknown> | undefined = definition.States[name];
    if (!state) throw new Error(`the path reaches ${name}, which the definition does not have`);
    entered.push(name);
    if (entered.length > 1000) throw new Error(`the path loops: ${entered.slice(-10).join(' → ')}`);
    if (name === path.stopIn) break;
    switch (state.Type) {
      case 'Succeed':
      case 'Fail':
        name = undefined;
        break;
      case 'Choice':
        name = path.choose(name, state as unknown as ChoiceState);
        break;
      default:
        if (state.End === true) name = undefined;
        else if (typeof state.Next === 'string') name = state.Next;
        else throw new Error(`state ${name} has neither Next nor End`);
    }
  }
  if (path.stopIn && entered.at(-1) !== path.stopIn) throw new Error(`the path never enters ${path.stopIn}`);
  return entered;
}
