// Types of stryker.config.mjs for build/mutate.ts, which reads the core files and the goal from it.
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';

export declare const MUTATION_GOAL: number;
export declare const CORE_FILES: readonly string[];
declare const config: PartialStrykerOptions & { readonly jsonReporter: { readonly fileName: string } };
export default config;
