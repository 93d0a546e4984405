/**
 * The fixed list of error codes the server answers with, and the HTTP status of each.
 * Every error response body is `{ code, message, details? }`.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  unsupported_protocol: 400,
  unknown_table: 400,
  unknown_column: 400,
  invalid_value: 400,
  unauthorized: 401,
  forbidden: 403,
  unknown_replica: 404,
  not_found: 404,
  schema_mismatch: 409,
  cursor_unknown: 409,
  epoch_changed: 409,
  generation_gap: 409,
  partition_changed: 409,
  expired_replica: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** An error that crosses the wire: the server throws it, the client rebuilds it from the body. */
export class ConcordError extends Error {
  override readonly name = 'ConcordError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
