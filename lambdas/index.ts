// The package root: the lock library for other Lambdas, scripts and the CLI.
export * from './core/index.js';
