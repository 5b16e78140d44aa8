import type { BrowserContext } from 'playwright-core';
export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: string[];
/** A browser with a fresh profile; close() ends it and removes the profile. */
export declare function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }>;
