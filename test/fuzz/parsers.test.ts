/**
 * Property tests of every parser (ATTACKS.md R11, R13, DS-04, PX-14: invariants checked over
 * generated families of inputs, not one exploit string): each fuzz target runs a few
 * hundred generated inputs; a property violation, an unexpected exception or an input that takes
 * longer than the budget fails the test with the shrunk input and the seed to replay it.
 * `npm run fuzz` runs the same targets for as long as asked.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { BUDGET_MS, TARGETS } from './targets.ts';

const RUNS: Record<string, number> = { 'jmap-request': 150, 'smtp-session': 40 };

for (const target of TARGETS)
  test(`fuzz: ${target.name}`, async () => {
    const { check, close } = await target.open();
    try {
      await fc.assert(
        fc.asyncProperty(target.arbitrary, async (input) => {
          const started = performance.now();
          await check(input);
          const ms = performance.now() - started;
          const budget = target.budgetMs ?? BUDGET_MS;
          if (ms > budget) throw new Error(`one input took ${Math.round(ms)} ms (budget ${budget} ms)`);
        }),
        { numRuns: RUNS[target.name] ?? 300 },
      );
    } finally {
      await close();
    }
  });
