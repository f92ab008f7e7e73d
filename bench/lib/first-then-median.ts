/** Times `what` once (a cold call), then `runs` more times: "<first> ms first, <median> ms median". */
export async function firstThenMedian(what: () => Promise<unknown>, runs: number): Promise<string> {
  let started = performance.now();
  await what();
  const first = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = performance.now();
    await what();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return `${first.toFixed(1)} ms first, ${times[Math.floor(runs / 2)]!.toFixed(1)} ms median`;
}
