import { assistantCount, type ChatBody, firstUserText, lastMessageText, messageText } from './chat-request.js';
import { type Scenario, scriptName, type Turn } from './scenario.js';

/** The outcome of looking up a request: the turn to play, or why there is none. */
export type Pick =
  | { script: string; role: string; index: number; turn: Turn }
  | { script: string | null; role: string; turn?: undefined; message: string };

/** Chooses the script and turn for each request and remembers which turns have been played. */
export class TurnBook {
  private readonly counters = new Map<string, number>();
  private readonly servedFaults = new Map<string, Set<number>>();

  constructor(readonly scenario: Scenario) {}

  /** The role of a request: the scenario's mapping for the model, else the model name itself. */
  roleOf(model: string): string {
    return this.scenario.roles?.[model] ?? model;
  }

  /** Picks (and consumes) the turn for this request. */
  pick(body: ChatBody): Pick {
    const role = this.roleOf(body.model);
    const userText = firstUserText(body).toLowerCase();
    const allText = body.messages.map((m) => messageText(m).toLowerCase());
    const at = this.scenario.scripts.findIndex(
      (s) =>
        (s.match === undefined || userText.includes(s.match.toLowerCase())) &&
        (s.contains === undefined || allText.some((t) => t.includes((s.contains as string).toLowerCase()))),
    );
    if (at < 0) {
      const shown = userText.length > 120 ? `${userText.slice(0, 120)}...` : userText;
      return { script: null, role, message: `scripted model: no script matches the first user message "${shown}"` };
    }
    const script = this.scenario.scripts[at];
    const name = scriptName(this.scenario, at);
    const turns = script.turns[role] ?? [];
    const key = `${at}\u0000${role}`;
    const count = this.counters.get(key) ?? 0;
    this.counters.set(key, count + 1);
    const mode = script.turnBy?.[role] ?? 'requestCount';
    if (mode === 'lastMessage') {
      const last = lastMessageText(body).toLowerCase();
      const index = turns.findIndex((t) => t.when === undefined || last.includes(t.when.toLowerCase()));
      if (index < 0) {
        return {
          script: name,
          role,
          message: `scripted model: no turn of role "${role}" in script "${name}" fits the last message`,
        };
      }
      return { script: name, role, index, turn: turns[index] };
    }
    const byMessages = mode === 'assistantMessages';
    const position = byMessages ? assistantCount(body) : count;
    const index = byMessages ? this.conversationTurn(key, turns, position) : position;
    const turn = index === undefined ? undefined : turns[index];
    if (index === undefined || !turn) {
      return {
        script: name,
        role,
        message: `scripted model: no turn ${position} for role "${role}" in script "${name}"`,
      };
    }
    return { script: name, role, index, turn };
  }

  /** Forgets every played turn. */
  reset(): void {
    this.counters.clear();
    this.servedFaults.clear();
  }

  /**
   * In 'assistantMessages' mode a conversation position is a non-fault turn; the fault turns just before it are
   * each played once first, so "500 then success" works there too instead of failing forever on redelivery.
   */
  private conversationTurn(key: string, turns: Turn[], position: number): number | undefined {
    const served = this.servedFaults.get(key) ?? new Set<number>();
    this.servedFaults.set(key, served);
    let seen = 0;
    for (let i = 0; i < turns.length; i++) {
      if (turns[i].fault) {
        if (seen === position && !served.has(i)) {
          served.add(i);
          return i;
        }
        continue;
      }
      if (seen === position) return i;
      seen++;
    }
    return undefined;
  }
}
