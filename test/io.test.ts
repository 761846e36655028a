// The step runners and the limiter under the JavaScript walk (lib/io.ts):
// the same generator run sync and async gets a job's throw the same way,
// and no more than `n` limited jobs ever run at once.
import { describe, expect, it } from 'vitest';
import { limiter, Parallel, runAsync, runSync, type Steps } from '../lib/io.js';

describe('Parallel jobs', () => {
  function* failingJob(): Steps<void> {
    yield undefined;
    throw new Error('job failed');
  }
  function* slowJob(done: string[]): Steps<void> {
    yield new Promise((resolve) => setTimeout(resolve, 50));
    done.push('slow');
  }
  function* walk(jobs: Steps<void>[], seen: string[]): Steps<string> {
    try {
      yield new Parallel(
        jobs.map((steps) => ({ steps, limited: true })),
        limiter(4),
      );
      return 'no throw';
    } catch (err) {
      seen.push(`caught: ${(err as Error).message}`);
      return 'caught';
    } finally {
      seen.push('finally');
    }
  }

  it('sync: a job that throws is thrown into the generator that yielded it', () => {
    const seen: string[] = [];
    expect(runSync(walk([failingJob()], seen))).toBe('caught');
    expect(seen).toEqual(['caught: job failed', 'finally']);
  });

  it('async: the same, and only once every other job has ended', async () => {
    const seen: string[] = [];
    const done: string[] = [];
    expect(await runAsync(walk([failingJob(), slowJob(done)], seen))).toBe('caught');
    // The slow job finished before the walk was told: nothing is still copying after it fails.
    expect(done).toEqual(['slow']);
    expect(seen).toEqual(['caught: job failed', 'finally']);
  });
});

describe('limiter', () => {
  it('never runs more than n jobs, even when a job arrives as a slot is handed over', async () => {
    for (let depth = 0; depth < 6; depth++) {
      const limit = limiter(1);
      let active = 0;
      let peak = 0;
      const job = (hold: Promise<void>) => async () => {
        active++;
        peak = Math.max(peak, active);
        await hold;
        active--;
      };
      let release!: () => void;
      const first = limit(job(new Promise<void>((resolve) => (release = resolve))));
      const second = limit(job(Promise.resolve()));
      // A third arrives `depth` microtasks after the first job ends.
      let third: Promise<void> | undefined;
      const later = (n: number): void => {
        if (n === 0) third = limit(job(Promise.resolve()));
        else queueMicrotask(() => later(n - 1));
      };
      release();
      later(depth);
      await Promise.all([first, second]);
      await new Promise((resolve) => setTimeout(resolve, 0));
      await third;
      expect(peak, `a job arriving ${depth} microtasks later`).toBe(1);
    }
  });
});
