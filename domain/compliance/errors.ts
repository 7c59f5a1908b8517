/** The jurisdiction code has no policy; the API answers 400. */
export class UnknownJurisdictionError extends Error {
  override readonly name = "UnknownJurisdictionError";
  constructor(readonly jurisdiction: string) {
    super(`Unknown jurisdiction: ${jurisdiction}`);
  }
}

/** A malformed instant or an unknown IANA zone in the gate input; the API answers 400. */
export class InvalidGateInputError extends Error {
  override readonly name = "InvalidGateInputError";
  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`Invalid ${field}: ${value}`);
  }
}
