import AsyncStorage from "@react-native-async-storage/async-storage";
import { fireEvent, screen, waitFor } from "@testing-library/react-native";
import { cartOf, fakeEdge, type Line } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

beforeEach(async () => {
  await AsyncStorage.clear();
});

test("a guest's cart comes from its token on the device; lines change and go", async () => {
  await AsyncStorage.setItem("emporium.cartToken", "guest-token-1");
  let lines: Line[] = [
    { sku: "APRON-M", title: "Linen Apron", quantity: 1 },
    { sku: "MUG-M", title: "Stoneware Mug", quantity: 2, issue: "Sold out" },
  ];
  const calls = fakeEdge({
    "CartService/GetCart": (req) => {
      expect(req.cartToken).toBe("guest-token-1");
      return cartOf(lines);
    },
    "CartService/UpdateItem": (req) => {
      lines = lines.map((l) => (l.sku === req.sku ? { ...l, quantity: Number(req.quantity) } : l));
      return cartOf(lines);
    },
    "CartService/RemoveItem": (req) => {
      lines = lines.filter((l) => l.sku !== req.sku);
      return cartOf(lines);
    },
    "ProductService/ListCategories": () => ({ categories: [] }),
  });
  await renderApp("/cart");

  expect(await screen.findByText("Linen Apron")).toBeOnTheScreen();
  expect(screen.getByText("Sold out")).toBeOnTheScreen();
  expect(screen.getByRole("link", { name: "Cart, 3 items" })).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("button", { name: "Remove Stoneware Mug" }));
  expect(await screen.findByRole("link", { name: "Cart, 1 item" })).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("button", { name: "One more Linen Apron" }));
  expect(await screen.findByRole("link", { name: "Cart, 2 items" })).toBeOnTheScreen();
  expect(calls.find((c) => c.method === "CartService/UpdateItem")?.body).toEqual({ cartToken: "guest-token-1", sku: "APRON-M", quantity: "2" });
  expect(screen.getByRole("button", { name: "Sign in to check out" })).toBeOnTheScreen();
  // Every request carries its own W3C trace context.
  for (const c of calls) expect(c.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test("a guest cart merged elsewhere is forgotten and the cart shows empty", async () => {
  await AsyncStorage.setItem("emporium.cartToken", "merged-token");
  fakeEdge({
    "CartService/GetCart": () => ({
      error: { code: "failed_precondition", message: "this cart was merged into a signed-in shopper's cart: sign in to see it" },
    }),
  });
  await renderApp("/cart");
  expect(await screen.findByText("Your cart is empty.")).toBeOnTheScreen();
  await waitFor(async () => expect(await AsyncStorage.getItem("emporium.cartToken")).toBeNull());
});

const product = {
  product: {
    id: "p1",
    slug: "linen-apron",
    title: "Linen Apron",
    brand: "Acme",
    description: "An apron.",
    price: { amount: "5000", currency: "USD" },
    inStock: true,
    images: [],
    variants: [
      { sku: "APRON-S", title: "S", options: { size: "S" }, price: { amount: "5000", currency: "USD" }, stock: "0" },
      { sku: "APRON-M", title: "M", options: { size: "M" }, price: { amount: "5000", currency: "USD" }, stock: "7" },
    ],
  },
};

test("an AddItem whose answer was lost shows a retry that does not add the line twice", async () => {
  await AsyncStorage.setItem("emporium.cartToken", "guest-token-1");
  let lines: Line[] = [];
  let adds = 0;
  let dropAnswer = true;
  fakeEdge({
    "ProductService/GetProduct": () => product,
    "CartService/GetCart": () => cartOf(lines),
    "CartService/AddItem": (req) => {
      adds++;
      const q = Number(req.quantity);
      const had = lines.find((l) => l.sku === req.sku);
      lines = had ? lines.map((l) => (l.sku === req.sku ? { ...l, quantity: l.quantity + q } : l)) : [...lines, { sku: String(req.sku), title: "Linen Apron", quantity: q }];
      if (dropAnswer) {
        dropAnswer = false;
        return "network-failure"; // the server added the line; the phone never heard
      }
      return cartOf(lines);
    },
  });
  await renderApp("/p/linen-apron");
  expect(await screen.findByText("In stock")).toBeOnTheScreen();
  expect(screen.getByRole("radio", { name: "S, sold out" })).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("button", { name: "Add to cart" }));
  expect(await screen.findByText("We can't reach the shop right now. Check your connection and try again.")).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("button", { name: "Retry adding to cart" }));
  expect(await screen.findByText("Added to your cart.")).toBeOnTheScreen();
  expect(await screen.findByRole("link", { name: "Cart, 1 item" })).toBeOnTheScreen();
  expect(adds).toBe(1);
  expect(lines).toEqual([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }]);
});

test("an AddItem that never reached the server is sent again on retry", async () => {
  await AsyncStorage.setItem("emporium.cartToken", "guest-token-1");
  let lines: Line[] = [];
  let fail = true;
  fakeEdge({
    "ProductService/GetProduct": () => product,
    "CartService/GetCart": () => cartOf(lines),
    "CartService/AddItem": (req) => {
      if (fail) {
        fail = false;
        return "network-failure"; // lost on the way there
      }
      lines = [{ sku: String(req.sku), title: "Linen Apron", quantity: Number(req.quantity) }];
      return cartOf(lines);
    },
  });
  await renderApp("/p/linen-apron");
  await fireEvent.press(await screen.findByRole("button", { name: "Add to cart" }));
  await fireEvent.press(await screen.findByRole("button", { name: "Retry adding to cart" }));
  expect(await screen.findByRole("link", { name: "Cart, 1 item" })).toBeOnTheScreen();
  expect(lines).toEqual([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }]);
});
