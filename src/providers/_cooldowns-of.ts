import type { Atomics } from "../stores/atomics";
import type { CooldownStore } from "./_key-pool";

/** The atomics driver's cooldown store, when it keeps one (both built-ins do; a custom one may not). */
export function cooldownsOf(atomics: Atomics): CooldownStore | undefined {
  const { coolDown, coolingDown } = atomics;
  if (!coolDown || !coolingDown) return undefined;
  return { coolDown: coolDown.bind(atomics), coolingDown: coolingDown.bind(atomics) };
}
