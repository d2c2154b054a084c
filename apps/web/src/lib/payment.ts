// Reading PayOrder's answer (paid, declined, 3-D Secure, processing) and
// checking typed card numbers: in the SDK, shared with the mobile app.
export { cardDigits, looksLikeCard, payOutcome, type PayOutcome } from "@emporium/sdk";
