/**
 * @sfm/core does not export its analysis module yet: core is moving to subpath exports and the
 * integrator wires `@sfm/core/analysis`. Until then this one file reaches into core's build
 * output (built first: core is a project reference); replace the path with '@sfm/core/analysis'.
 */
export * from '../../core/dist/analysis/index.js';
