/**
 * Rounds combined (`--repeat n`): per scenario, the round with the median req/s
 * stands for the scenario (its latencies and CPU split are reported), with the
 * min–max req/s of all rounds; the ratio to hello-world is the median of the
 * per-round ratios, each against the hello-world of its own round. A scenario
 * that failed in any round is reported as failed.
 */
import { failure, type ScenarioOutcome } from './report.ts';

const median = (sorted: number[]) => sorted[Math.floor((sorted.length - 1) / 2)];

export function combineRounds(rounds: ScenarioOutcome[][]): ScenarioOutcome[] {
  const ratios = new Map<string, number[]>();
  for (const round of rounds) {
    const ceiling = round.find((o) => o.name === 'hello-world' && !failure(o))?.result?.requestsPerSecond;
    if (!ceiling) continue;
    for (const o of round) {
      if (o.result) ratios.set(o.name, [...(ratios.get(o.name) ?? []), o.result.requestsPerSecond / ceiling]);
    }
  }
  return rounds[0].map(({ name }) => {
    const runs = rounds.map((round) => round.find((o) => o.name === name)!);
    const failed = runs.find((o) => failure(o));
    if (failed) return { ...failed, rounds: runs.length };
    const rps = runs.map((o) => o.result!.requestsPerSecond).sort((a, b) => a - b);
    const chosen = runs.find((o) => o.result!.requestsPerSecond === median(rps))!;
    const scenarioRatios = ratios.get(name);
    return {
      ...chosen,
      rounds: runs.length,
      rpsRange: runs.length > 1 ? [rps[0], rps[rps.length - 1]] : undefined,
      ratio: scenarioRatios?.length === runs.length ? median(scenarioRatios.sort((a, b) => a - b)) : undefined,
    };
  });
}
