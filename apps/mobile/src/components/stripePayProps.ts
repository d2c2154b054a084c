export interface StripePayProps {
  /** Stripe's publishable key, from PaymentService.GetPaymentConfig. */
  publishableKey: string;
  /** The order to pay; placing it first when there is none yet. */
  orderId: () => Promise<string>;
  amountLabel: string;
  onPaid: (orderId: string) => void;
}
