// The shared fetch-level stand-in for the edge (apps/e2e-kit/fakeEdge.ts).
export * from "../../../e2e-kit/fakeEdge";
