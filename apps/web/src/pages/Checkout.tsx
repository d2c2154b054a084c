import { formatMoney, type Cart, type Order } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { AddressFields, emptyAddress, missingAddressFields, type AddressInput } from "../components/AddressFields";
import { PayForm } from "../components/PayForm";
import { Price } from "../components/Price";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading } from "../components/Status";
import { USER_KEY } from "../lib/auth";
import { useCart } from "../lib/cart";
import { isTransient } from "../lib/errors";
import { newKey } from "../lib/ids";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

function Summary({ cart, order }: { cart?: Cart; order?: Order }) {
  const src = order ?? cart;
  if (!src) return null;
  const lines = order ? order.lines.map((l) => ({ key: l.sku, title: l.title, variant: l.variantTitle, qty: l.quantity, total: l.lineTotal }))
    : (cart?.lines ?? []).map((l) => ({ key: l.sku, title: l.title, variant: l.variantTitle, qty: l.quantity, total: l.lineTotal }));
  return (
    <aside className="summary" aria-label="Order summary">
      <h2>Order summary</h2>
      <ul className="summary__lines">
        {lines.map((l) => (
          <li key={l.key}>
            <span>
              {l.title} <span className="muted">· {l.variant} × {Number(l.qty)}</span>
            </span>
            <Price money={l.total} />
          </li>
        ))}
      </ul>
      <dl className="totals">
        <div><dt>Subtotal</dt><dd><Price money={src.subtotal} /></dd></div>
        {src.discountTotal && src.discountTotal.amount > 0n && (
          <div><dt>Discount</dt><dd>−<Price money={src.discountTotal} /></dd></div>
        )}
        <div><dt>Shipping</dt><dd>{src.shippingTotal ? <Price money={src.shippingTotal} /> : <span className="muted">choose below</span>}</dd></div>
        <div><dt>Tax</dt><dd>{src.taxTotal ? <Price money={src.taxTotal} /> : <span className="muted">—</span>}</dd></div>
        <div className="totals__total"><dt>Total</dt><dd><Price money={src.total} /></dd></div>
      </dl>
    </aside>
  );
}

function useDefaultAddress(): AddressInput | undefined {
  const { data } = useQuery({
    queryKey: [USER_KEY, "addresses"],
    queryFn: async () => (await shop.users.listAddresses({})).addresses,
  });
  const a = data?.find((x) => x.defaultShipping) ?? data?.[0];
  return a && { name: a.name, line1: a.line1, line2: a.line2, city: a.city, region: a.region, postalCode: a.postalCode, country: a.country || "US", phone: a.phone };
}

function CheckoutFlow() {
  usePageTitle("Checkout");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const cart = useCart();
  const saved = useDefaultAddress();
  const [address, setAddress] = useState<AddressInput>(emptyAddress);
  const [addressErrors, setAddressErrors] = useState<Record<string, string>>({});
  const [confirmed, setConfirmed] = useState<AddressInput>(); // the address shipping is quoted for
  const [rateId, setRateId] = useState<string>();
  const [order, setOrder] = useState<Order>();
  const checkoutKey = useRef(newKey());
  const shippingHeading = useRef<HTMLHeadingElement>(null);

  // Start from the shopper's default address, once it has loaded.
  const prefilled = useRef(false);
  useEffect(() => {
    if (saved && !prefilled.current) {
      prefilled.current = true;
      setAddress(saved);
    }
  }, [saved]);

  const quote = useQuery({
    queryKey: [USER_KEY, "cart", "quote", confirmed?.country, confirmed?.region, confirmed?.postalCode, rateId ?? ""],
    enabled: confirmed !== undefined && order === undefined,
    placeholderData: (prev) => prev,
    queryFn: async () => {
      const shipTo = { country: confirmed!.country, region: confirmed!.region, postalCode: confirmed!.postalCode };
      return (await shop.carts.getCart({ shipTo, shippingRateId: rateId ?? "" })).cart;
    },
  });
  const rates = quote.data?.shippingRates ?? [];
  // The cheapest option is picked until the shopper picks another.
  useEffect(() => {
    if (!rateId && rates[0]) setRateId(rates[0].id);
  }, [rateId, rates]);

  const placeOrder = useMutation({
    mutationFn: async () => {
      const a = confirmed!;
      const res = await shop.checkout.checkout({
        shippingAddress: { ...a, country: a.country },
        shippingRateId: rateId!,
        idempotencyKey: checkoutKey.current,
        expectedTotal: quote.data?.total,
      });
      return res.order!;
    },
    onSuccess: (o) => {
      setOrder(o);
      void queryClient.invalidateQueries({ queryKey: [USER_KEY, "cart"] });
    },
    onError: (err) => {
      // The cart must change before another try: that is another request, so another key.
      if (!isTransient(err)) checkoutKey.current = newKey();
    },
  });

  const orderId = useCallback(async () => {
    if (order) return order.id;
    const o = await placeOrder.mutateAsync();
    return o.id;
  }, [order, placeOrder]);
  const onPaid = useCallback((id: string) => {
    void queryClient.invalidateQueries({ queryKey: [USER_KEY] });
    void navigate(`/orders/${id}?placed=1`);
  }, [navigate, queryClient]);

  const submitAddress = (e: FormEvent) => {
    e.preventDefault();
    const missing = missingAddressFields(address);
    setAddressErrors(missing);
    if (Object.keys(missing).length > 0) return;
    setConfirmed(address);
    setRateId(undefined);
    requestAnimationFrame(() => shippingHeading.current?.focus());
  };

  if (cart.isPending) return <Loading label="Loading your cart…" />;
  if (!order && (!cart.data || cart.data.lines.length === 0)) {
    return (
      <div className="page narrow">
        <h1>Checkout</h1>
        <p>Your cart is empty.</p>
        <Link to="/" className="button button--primary">Start shopping</Link>
      </div>
    );
  }
  const priced = order ?? quote.data ?? cart.data ?? undefined;
  const payable = confirmed && rateId && quote.data?.shippingTotal && !quote.isFetching;

  return (
    <div className="page">
      <h1>Checkout</h1>
      <div className="cart-layout">
        <div className="checkout">
          <section aria-labelledby="ship-title" className="step">
            <h2 id="ship-title">1. Shipping address</h2>
            {confirmed && !order ? (
              <div className="step__done">
                <address>
                  {confirmed.name}<br />{confirmed.line1}{confirmed.line2 && <>, {confirmed.line2}</>}<br />
                  {confirmed.city} {confirmed.region} {confirmed.postalCode}, {confirmed.country}
                </address>
                <button type="button" className="link-button" onClick={() => setConfirmed(undefined)}>Change address</button>
              </div>
            ) : order ? (
              <address>{order.shippingAddress?.name}, {order.shippingAddress?.line1}, {order.shippingAddress?.city}</address>
            ) : (
              <form onSubmit={submitAddress} noValidate aria-label="Shipping address">
                <AddressFields value={address} onChange={setAddress} errors={addressErrors} />
                <button type="submit" className="button button--primary">Continue to shipping</button>
              </form>
            )}
          </section>

          <section aria-labelledby="method-title" className="step">
            <h2 id="method-title" ref={shippingHeading} tabIndex={-1}>2. Shipping method</h2>
            {!confirmed ? (
              <p className="muted">Enter your address to see delivery options.</p>
            ) : order ? (
              <p>{order.shippingRate?.serviceName}</p>
            ) : quote.isPending ? (
              <Loading label="Finding delivery options…" />
            ) : quote.error ? (
              <ErrorMessage error={quote.error} onRetry={() => void quote.refetch()} />
            ) : rates.length === 0 ? (
              <p>We can't deliver to this address yet. Try another one.</p>
            ) : (
              <fieldset className="rates">
                <legend className="visually-hidden">Shipping method</legend>
                {rates.map((r) => (
                  <label key={r.id} className="rate">
                    <input type="radio" name="rate" value={r.id} checked={rateId === r.id} onChange={() => setRateId(r.id)} />
                    <span className="rate__name">{r.serviceName}</span>
                    <Price money={r.price} />
                  </label>
                ))}
              </fieldset>
            )}
          </section>

          <section aria-labelledby="pay-title" className="step">
            <h2 id="pay-title">3. Payment</h2>
            {order && (
              <p className="muted">
                Order {order.number} is reserved for you. Pay to confirm it.
              </p>
            )}
            {payable || order ? (
              <PayForm orderId={orderId} amount={priced?.total} amountLabel={formatMoney(priced?.total)} onPaid={onPaid} />
            ) : (
              <p className="muted">Choose a shipping method first.</p>
            )}
          </section>
        </div>
        <Summary cart={order ? undefined : (quote.data ?? cart.data ?? undefined)} order={order} />
      </div>
    </div>
  );
}

export default function Checkout() {
  return (
    <RequireAuth>
      <CheckoutFlow />
    </RequireAuth>
  );
}
