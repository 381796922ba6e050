/**
 * `npm run fuzz [-- --seconds N] [target...]`: runs each fuzz target for N seconds (default 60)
 * and reports, per target, the inputs tried, the failures (with the shrunk input and the seed
 * that replays it) and the slowest input. Not part of CI; exits 1 when anything failed.
 */
import fc from 'fast-check';
import { BUDGET_MS, TARGETS } from './targets.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--seconds');
const seconds = at >= 0 ? Number(args[at + 1]) : 60;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('fuzz: --seconds takes a positive number');
  process.exit(2);
}
const names = args.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length > 0) {
  console.error(`fuzz: no target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}

const preview = (input: unknown): string => {
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

let failed = 0;
console.log(`fuzzing ${seconds} s per target`);
for (const target of TARGETS.filter((t) => names.length === 0 || names.includes(t.name))) {
  const { check, close } = await target.open();
  let iterations = 0;
  let slowest = { ms: 0, input: undefined as unknown };
  const budget = target.budgetMs ?? BUDGET_MS;
  const result = await fc.check(
    fc.asyncProperty(target.arbitrary, async (input) => {
      iterations++;
      const started = performance.now();
      await check(input);
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, input };
      if (ms > budget) throw new Error(`one input took ${Math.round(ms)} ms (budget ${budget} ms)`);
    }),
    {
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: seconds * 1000,
      markInterruptAsFailure: false,
    },
  );
  await close();
  const crashes = result.failed ? 1 : 0;
  failed += crashes;
  console.log(
    `${target.name.padEnd(14)} ${String(iterations).padStart(9)} inputs  ${crashes} failures  slowest ${slowest.ms.toFixed(1)} ms: ${preview(slowest.input)}`,
  );
  if (result.failed)
    console.log(
      `  failure (seed ${result.seed}, path ${result.counterexamplePath}): ${preview(result.counterexample)}\n  ${String(result.errorInstance).split('\n')[0]}`,
    );
}
process.exit(failed > 0 ? 1 : 0);
