import { useEffect, useRef } from "react";

/** Calls `onVisible` when the returned element scrolls into view (infinite scroll); a no-op without IntersectionObserver. */
export function useOnVisible<T extends Element>(onVisible: () => void, enabled: boolean) {
  const ref = useRef<T>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const el = ref.current;
    if (!el || !enabled || typeof IntersectionObserver === "undefined") return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) callback.current();
    }, { rootMargin: "400px" });
    io.observe(el);
    return () => io.disconnect();
  }, [enabled]);
  return ref;
}
