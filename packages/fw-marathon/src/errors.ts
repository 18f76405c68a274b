/** Stable codes of MarathonError; each maps to one HTTP status. */
export type MarathonErrorCode =
  | 'INVALID_JSON' // 400
  | 'INVALID_OBJECT' // 422
  | 'NOT_FOUND' // 404
  | 'APP_LOCKED' // 409
  | 'CONFLICT' // 409: the app already exists (POST)
  | 'BAD_REQUEST' // 400
  | 'INVALID_OPTIONS'; // programmer error: bad startMarathon options

/** One problem of an invalid object, as Marathon reports it: a JSON pointer and its errors. */
export interface ValidationDetail {
  path: string;
  errors: string[];
}

const STATUS: Record<MarathonErrorCode, number> = {
  INVALID_JSON: 400,
  INVALID_OBJECT: 422,
  NOT_FOUND: 404,
  APP_LOCKED: 409,
  CONFLICT: 409,
  BAD_REQUEST: 400,
  INVALID_OPTIONS: 500,
};

/** The one error type of fw-marathon; the HTTP layer turns it into Marathon's error bodies. */
export class MarathonError extends Error {
  override readonly name = 'MarathonError';
  readonly code: MarathonErrorCode;
  readonly details: ValidationDetail[];
  /** Deployment ids holding a lock (APP_LOCKED). */
  readonly deployments: string[];

  constructor(code: MarathonErrorCode, message: string, options: { details?: ValidationDetail[]; deployments?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
    this.deployments = options.deployments ?? [];
  }

  /** The HTTP status Marathon answers with for this error. */
  get httpStatus(): number {
    return STATUS[this.code];
  }

  /** Marathon's JSON body for this error. */
  toJSON(): Record<string, unknown> {
    if (this.code === 'INVALID_OBJECT') return { message: 'Object is not valid', details: this.details };
    if (this.code === 'APP_LOCKED') return { message: this.message, deployments: this.deployments.map((id) => ({ id })) };
    return { message: this.message };
  }
}
