/**
 * @module rotation
 * Rotation schedules (pure), the four-step runner, the scheduler, and the built-in database rotators.
 * Implements Secrets Manager's RotationStarter port and calls Secrets Manager only through the in-process
 * invoke it is given. Imports core, store, secrets (its service interface) and functions.
 */
export { createRotationService, type RotationService } from './service.js';
export type { RotationDeps } from './deps.js';
export type { Rotator, RotationEvent, SecretsCaller, InvokeOutcome } from './rotator.js';
export { nextWindow, validateRules, ScheduleError } from './schedule.js';
