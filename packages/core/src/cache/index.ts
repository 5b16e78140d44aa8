export * from './store.js';
export * from './policies.js';
export * from './unit-queue.js';
export * from './hot-tier.js';
export * from './relay-service.js';
export * from './unit-locks.js';
export * from './sync-plan.js';
export * from './process-leases.js';
