/** Types of bundle.mjs (plain JS: it runs in the image's build stage before anything is built). */
export declare const IMAGE_ENTRIES: readonly string[];
export declare function bundlePath(entry: string): string;
export declare function bundleImage(outDir: string): Promise<void>;
