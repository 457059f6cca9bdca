/**
 * The built-in user directory: people who sign in to Hearth (authorization
 * code + PKCE) as a Practitioner acting in one of their PractitionerRoles.
 * Passwords are hashed with scrypt (memory-hard; N=2^15, r=8, p=1, 32 MiB per
 * hash, a 16-byte random salt) and compared in constant time.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type pg from 'pg';

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a password nobody has: sign-in of an unknown user does the same work as a known one. */
let decoyHash: Promise<string> | undefined;

export interface UserRole {
  practitionerRole: string;
  organization: string;
}

export interface User {
  username: string;
  name: string;
  practitioner: string;
  roles: UserRole[];
}

export async function registerUser(pool: pg.Pool, user: User & { password: string }): Promise<void> {
  const hash = await hashPassword(user.password);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO auth_user (username, password_hash, practitioner, name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO UPDATE SET password_hash = $2, practitioner = $3, name = $4`,
      [user.username, hash, user.practitioner, user.name],
    );
    await client.query('DELETE FROM auth_user_role WHERE username = $1', [user.username]);
    for (const role of user.roles) {
      await client.query('INSERT INTO auth_user_role (username, practitioner_role, organization) VALUES ($1, $2, $3)', [
        user.username,
        role.practitionerRole,
        role.organization,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

export async function findUser(
  pool: pg.Pool,
  username: string,
): Promise<(User & { passwordHash: string }) | undefined> {
  const { rows } = await pool.query(
    `SELECT u.username, u.name, u.practitioner, u.password_hash,
            coalesce(json_agg(json_build_object('practitionerRole', r.practitioner_role, 'organization', r.organization)
                     ORDER BY r.practitioner_role) FILTER (WHERE r.username IS NOT NULL), '[]') AS roles
       FROM auth_user u LEFT JOIN auth_user_role r ON r.username = u.username
      WHERE u.username = $1 GROUP BY u.username`,
    [username],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    username: row.username,
    name: row.name,
    practitioner: row.practitioner,
    passwordHash: row.password_hash,
    roles: row.roles,
  };
}

/** The user if the password is theirs (same work whether or not the user exists). */
export async function authenticateUser(pool: pg.Pool, username: string, password: string): Promise<User | undefined> {
  const user = await findUser(pool, username);
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  if (!user || !ok) return undefined;
  return { username: user.username, name: user.name, practitioner: user.practitioner, roles: user.roles };
}
