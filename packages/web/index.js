// The built web application (vite build → dist/), for the executable to hand to the HTTP front end.
import { fileURLToPath } from 'node:url';

/** The directory of the built files: index.html and assets/. */
export const WEB_ROOT = fileURLToPath(new URL('./dist/', import.meta.url));
