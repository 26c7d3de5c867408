// Property tests explore new random cases on every local run; in CI (CI=true) the seed is fixed so
// that a rare case found there is reproducible and does not block an unrelated landing by chance.
// FC_SEED picks a seed explicitly (fast-check prints the failing one).
import fc from 'fast-check';

const seed = process.env.FC_SEED ?? (process.env.CI ? '20261125' : undefined);
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });
