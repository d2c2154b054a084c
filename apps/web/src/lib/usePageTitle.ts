import { useEffect } from "react";

/** Sets the document title ("Boots · Emporium"), which screen readers announce on navigation. */
export function usePageTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Emporium` : "Emporium";
  }, [title]);
}
