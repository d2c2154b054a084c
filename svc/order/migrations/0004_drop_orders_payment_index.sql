-- Nothing looks an order up by its payment (payment events name the order),
-- and the index made recording an order's payment, once per checkout, a
-- write to every index of the table: without it that update changes no
-- indexed column, so PostgreSQL can make it a heap-only (HOT) update.
DROP INDEX orders_payment;
