-- orders-db, compose's example database with dynamic logins (run once, on its first start).
-- Mayfly makes one login per grant as a member of the group roles an action maps to, and
-- destroys it when the grant ends; the tables are granted to the group role, never to a login.
CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL);
INSERT INTO orders VALUES (1, 'ada', 42.00), (2, 'grace', 17.50), (3, 'linus', 99.90);
CREATE ROLE demo_orders_reader NOLOGIN;
GRANT SELECT ON orders TO demo_orders_reader;
