import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Highlight, highlightRuns } from "./Highlight";

describe("Highlight", () => {
  it("marks the matched words", () => {
    const { container } = render(<Highlight fragment="Tundra Storm <mark>Waterproof</mark> Shell <mark>Jacket</mark>" />);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Waterproof", "Jacket"]);
    expect(container.textContent).toBe("Tundra Storm Waterproof Shell Jacket");
  });

  it("shows escaped text as text and never as markup", () => {
    const { container } = render(<Highlight fragment={"Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt; <mark>&quot;boots&quot;</mark>"} />);
    expect(container.querySelector("script")).toBeNull();
    expect(container.textContent).toBe('Tom & Jerry <script>alert(1)</script> "boots"');
    expect(screen.getByText('"boots"').tagName).toBe("MARK");
  });

  it("splits runs", () => {
    expect(highlightRuns("a <mark>b</mark> c")).toEqual([["a ", false], ["b", true], [" c", false]]);
  });
});
