import { formatMoney, type MoneyLike } from "@emporium/sdk";

export function Price({ money, className }: { money: MoneyLike | undefined; className?: string }) {
  return <span className={className ?? "price"}>{formatMoney(money)}</span>;
}
