// Medplum's MemoryRepository with what a stand-in for HAPI JPA needs and the in-memory repo lacks:
//   - R4 validation of every created/updated resource (validateResource),
//   - referential integrity for subject / device / extension[].valueReference,
//   - an identifier index, so conditional creates and `identifier=` searches do not scan every resource,
//   - transactions that roll back (the base class runs the callback and keeps whatever it wrote).
//
// The server runs one FHIR request at a time (see server.mjs), so a single journal per repository
// is enough for transactions, and nothing here needs locking.
import {
  OperationOutcomeError,
  Operator,
  allOk,
  badRequest,
  created,
  deepClone,
  isResourceType,
  matchesSearchRequest,
  multipleMatches,
  splitSearchOnComma,
  validateResource,
} from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';

/** Reference fields checked for existence; `extension` means top-level extension[].valueReference. */
const CHECKED_FIELDS = ['subject', 'device', 'patient', 'author'];

export class CarehubRepository extends MemoryRepository {
  /** `${resourceType}|${system}|${value}` -> Set of ids. Exact (case-sensitive) match, like HAPI. */
  #identifiers = new Map();
  /** Open transaction: { undo: [...], written: [...] }, or null. */
  #tx = null;
  #checkReferences;
  /** Optional spec-conformant checker (server.mjs --hl7-invariants): resource -> error issues. */
  #validate;

  constructor({ checkReferences = true, validate = undefined } = {}) {
    super();
    this.#checkReferences = checkReferences;
    this.#validate = validate;
  }

  // MemoryRepository keeps `resources: Map<type, Map<id, Resource>>` (TypeScript-private, plain JS
  // property). We read it directly: existence checks and index lookups must not deep-clone.
  #stored(resourceType, id) {
    return this.resources.get(resourceType)?.get(id);
  }

  exists(resourceType, id) {
    return this.#stored(resourceType, id) !== undefined;
  }

  /** Resource counts per type (types with at least one resource). */
  countByType() {
    const counts = {};
    for (const [type, byId] of this.resources) {
      if (byId.size > 0) counts[type] = byId.size;
    }
    return counts;
  }

  clear() {
    super.clear();
    this.#identifiers.clear();
  }

  // updateResource() and patchResource() of the base class both end up here (update = true).
  async createResource(resource, options, update = false) {
    if (!update && resource.id && !options?.assignedId) {
      // HAPI rejects this too; MemoryRepository would silently keep the client's id.
      throw new OperationOutcomeError(
        badRequest('ID must not be supplied on create (POST); use PUT to choose the id', `${resource.resourceType}.id`)
      );
    }
    validateResource(resource); // throws OperationOutcomeError (HTTP 400) listing every issue
    if (this.#validate) {
      // HAPI with request validation refuses with 422 and one issue per finding.
      const errors = this.#validate(resource);
      if (errors.length > 0) {
        throw new OperationOutcomeError({
          resourceType: 'OperationOutcome',
          id: 'carehub-test-rejected-422',
          issue: errors.map((e) => ({
            severity: 'error',
            code: 'processing',
            diagnostics: `${e.rule}: ${e.message}`,
            expression: [e.path],
          })),
        });
      }
    }
    if (this.#checkReferences && !this.#tx) {
      this.#assertReferencesExist(resource);
    }

    const previous = resource.id ? this.#stored(resource.resourceType, resource.id) : undefined;
    const historyLength = this.#historyLength(resource.resourceType, resource.id);
    const result = await super.createResource(resource, options, update);
    this.#journal(result.resourceType, result.id, previous, historyLength);
    this.#unindex(previous);
    this.#index(this.#stored(result.resourceType, result.id));
    // Inside a transaction, entries may reference resources created by later entries: check at commit.
    this.#tx?.written.push([result.resourceType, result.id]);
    return result;
  }

  async deleteResource(resourceType, id, options) {
    const previous = this.#stored(resourceType, id);
    await super.deleteResource(resourceType, id, options);
    this.#journal(resourceType, id, previous, this.#historyLength(resourceType, id));
    this.#unindex(previous);
  }

  async expungeResources(resourceType, ids) {
    for (const id of ids) this.#unindex(this.#stored(resourceType, id));
    await super.expungeResources(resourceType, ids);
  }

  // MemoryRepository.conditionalCreate scans and calls a private create that would skip our
  // validation and indexing, so it is redone here on top of the indexed search.
  async conditionalCreate(resource, search, options) {
    if (search.resourceType !== resource.resourceType) {
      throw new OperationOutcomeError(badRequest('Search type must match resource type for conditional create'));
    }
    search.count = 2;
    search.sortRules = undefined;
    const matches = await this.searchResources(search);
    if (matches.length > 1) {
      throw new OperationOutcomeError(multipleMatches);
    }
    if (matches.length === 1) {
      if (!options?.assignedId && resource.id && resource.id !== matches[0].id) {
        throw new OperationOutcomeError(badRequest('Resource ID did not match resolved ID', `${resource.resourceType}.id`));
      }
      return { resource: matches[0], outcome: allOk };
    }
    return { resource: await this.createResource(resource, options), outcome: created };
  }

  async search(searchRequest, options) {
    const indexed = this.#indexedCandidates(searchRequest);
    if (!indexed) {
      return super.search(searchRequest, options);
    }
    // The index answered the identifier filter exactly; only the other filters are left to check.
    // (Re-checking it would cost more than the lookup: R4's `identifier` parameter is one FHIRPath
    // union over every resource type.)
    const rest = { ...searchRequest, filters: searchRequest.filters.filter((f) => f !== indexed.filter) };
    const matches = [];
    for (const id of indexed.ids) {
      const resource = this.#stored(searchRequest.resourceType, id);
      if (resource && (rest.filters.length === 0 || matchesSearchRequest(resource, rest))) matches.push(resource);
    }
    const start = searchRequest.offset ?? 0;
    const page = matches.slice(start, searchRequest.count === undefined ? undefined : start + searchRequest.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length ? page.map((r) => ({ search: { mode: 'match' }, resource: deepClone(r) })) : undefined,
      total: matches.length,
    };
  }

  /**
   * `{ filter, ids }`: the search's `identifier=system|value[,system|value]` filter and the ids that
   * match it, from the index. Undefined when the search must take MemoryRepository's full scan: no
   * such filter, partial tokens (`identifier=value`, `system|`), chained params, _sort, _include.
   */
  #indexedCandidates(req) {
    if (req.types || req.sortRules?.length || req.include || req.revInclude) return undefined;
    const filters = req.filters ?? [];
    if (filters.some((f) => f.code.includes('.') || f.code.startsWith('_has'))) return undefined;
    const filter = filters.find((f) => f.code === 'identifier' && f.operator === Operator.EQUALS);
    if (!filter) return undefined;
    const ids = new Set();
    for (const token of splitSearchOnComma(filter.value)) {
      const bar = token.indexOf('|');
      const system = token.slice(0, bar);
      const value = token.slice(bar + 1);
      if (bar < 1 || !value || value.includes('|')) return undefined;
      for (const id of this.#identifiers.get(`${req.resourceType}|${system}|${value}`) ?? []) ids.add(id);
    }
    return { filter, ids };
  }

  #index(resource) {
    for (const key of identifierKeys(resource)) {
      let ids = this.#identifiers.get(key);
      if (!ids) this.#identifiers.set(key, (ids = new Set()));
      ids.add(resource.id);
    }
  }

  #unindex(resource) {
    for (const key of identifierKeys(resource)) {
      const ids = this.#identifiers.get(key);
      ids?.delete(resource.id);
      if (ids?.size === 0) this.#identifiers.delete(key);
    }
  }

  // ---- transactions ----------------------------------------------------------------------------

  async withTransaction(callback) {
    if (this.#tx) {
      return callback(this); // nested (e.g. conditional create inside a transaction bundle): join it
    }
    this.#tx = { undo: [], written: [] };
    try {
      const result = await callback(this);
      if (this.#checkReferences) {
        for (const [type, id] of this.#tx.written) {
          const resource = this.#stored(type, id);
          if (resource) this.#assertReferencesExist(resource);
        }
      }
      this.#tx = null;
      return result;
    } catch (err) {
      this.#rollback();
      throw err;
    }
  }

  #historyLength(resourceType, id) {
    return (id && this.history.get(resourceType)?.get(id)?.length) || 0;
  }

  /** Record, in the open transaction, how to undo a write that has just succeeded. */
  #journal(resourceType, id, previous, historyLength) {
    this.#tx?.undo.push({ resourceType, id, previous, historyLength });
  }

  #rollback() {
    const { undo } = this.#tx;
    this.#tx = null;
    for (const { resourceType, id, previous, historyLength } of undo.reverse()) {
      const byId = this.resources.get(resourceType);
      this.#unindex(byId?.get(id));
      if (previous) {
        byId.set(id, previous);
        this.#index(previous);
      } else {
        byId?.delete(id);
      }
      const versions = this.history.get(resourceType)?.get(id);
      if (versions) {
        versions.length = historyLength;
        if (historyLength === 0) this.history.get(resourceType).delete(id);
      }
    }
  }

  // ---- referential integrity -------------------------------------------------------------------

  /** Throws 400 if subject, device or extension[].valueReference names a `Type/id` that does not exist. */
  #assertReferencesExist(resource) {
    const refs = CHECKED_FIELDS.map((field) => [field, resource[field]?.reference]);
    (resource.extension ?? []).forEach((ext, i) => refs.push([`extension[${i}].valueReference`, ext?.valueReference?.reference]));
    for (const [field, reference] of refs) {
      if (typeof reference !== 'string' || reference.startsWith('#')) continue; // absent, or contained
      if (reference.startsWith('urn:uuid:') || reference.startsWith('urn:oid:')) {
        // Inside a bundle, the batch processor has already rewritten placeholders it could resolve.
        throw new OperationOutcomeError(
          badRequest(`Unresolved placeholder reference ${reference}`, `${resource.resourceType}.${field}`)
        );
      }
      const [type, id, ...rest] = reference.split('/');
      if (!isResourceType(type) || !id || (rest.length && rest[0] !== '_history')) continue; // absolute URL etc.
      if (!this.#stored(type, id)) {
        // HAPI JPA's wording and code, so a client's handling of it can be tested here.
        const outcome = badRequest(
          `HAPI-1094: Resource ${type}/${id} not found, specified in path: ${resource.resourceType}.${field}`,
          `${resource.resourceType}.${field}`
        );
        // Inside a transaction this is checked at commit, when the entry is no longer known: name
        // the resource by what the client chose, its identifier.
        const ident = resource.identifier?.[0];
        if (ident?.value) outcome.issue[0].diagnostics = `${resource.resourceType} with identifier ${ident.system ?? ''}|${ident.value}`;
        throw new OperationOutcomeError(outcome);
      }
    }
  }
}

/** Index keys for a stored resource's identifiers that have both a system and a value. */
function identifierKeys(resource) {
  if (!resource || !Array.isArray(resource.identifier)) return [];
  return resource.identifier
    .filter((ident) => ident?.system && ident?.value)
    .map((ident) => `${resource.resourceType}|${ident.system}|${ident.value}`);
}
