import { AWS_PARAMETER_LIMITS, type SsmDeps } from '../deps.js';
import { createParameterAccess } from '../parameter-access.js';
import { createParameterValues } from '../parameter-values.js';
import { createDescribingOperations } from './describing.js';
import { createLabelOperations } from './labels.js';
import { createReadingOperations } from './reading.js';
import { createTaggingOperations } from './tagging.js';
import { createWritingOperations } from './writing.js';

export function createSsmOperations(deps: SsmDeps) {
  const limits = { ...AWS_PARAMETER_LIMITS, ...deps.limits };
  const access = createParameterAccess(deps);
  const values = createParameterValues(deps);
  return {
    ...createWritingOperations(deps, access, values, limits),
    ...createReadingOperations(deps, access, values),
    ...createDescribingOperations(deps),
    ...createLabelOperations(deps, access, limits),
    ...createTaggingOperations(deps, access, limits),
  };
}

export type SsmOperations = ReturnType<typeof createSsmOperations>;
