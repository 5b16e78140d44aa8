// vitest's setup file for every package: tsyringe needs the Reflect metadata API before it loads,
// as each executable provides it (app/src/main.ts).
import 'reflect-metadata';
