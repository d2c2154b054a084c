import { highlightRuns } from "@emporium/sdk";
import { Text } from "react-native";
import { colors } from "./theme";

/** A search highlight as text: the matches get a marker background, nothing is parsed as HTML. */
export function HighlightText({ fragment }: { fragment: string }) {
  return (
    <>
      {highlightRuns(fragment).map(([text, marked], i) =>
        marked ? (
          <Text key={i} testID="highlight-mark" style={{ backgroundColor: colors.mark, fontWeight: "700" }}>
            {text}
          </Text>
        ) : (
          <Text key={i}>{text}</Text>
        ),
      )}
    </>
  );
}
