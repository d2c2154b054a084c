// Token pagination for tables: the page tokens seen so far, so Previous goes
// back without the server keeping anything. Filters reset it to page one.
import { computed, ref, watch, type Ref } from "vue";

export function usePageTokens(resetOn: Ref<unknown>) {
  const tokens = ref<string[]>([""]);
  const page = computed(() => tokens.value.length);
  const token = computed(() => tokens.value[tokens.value.length - 1] ?? "");
  watch(resetOn, () => (tokens.value = [""]), { deep: true });
  return {
    /** The token of the page shown ("" for the first). */
    token,
    /** 1-based page number. */
    page,
    next(nextToken: string) {
      if (nextToken) tokens.value = [...tokens.value, nextToken];
    },
    previous() {
      if (tokens.value.length > 1) tokens.value = tokens.value.slice(0, -1);
    },
  };
}
