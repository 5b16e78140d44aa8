/**
 * The PostgreSQL server the benchmarks measure the PostgreSQL store on: a local cluster
 * (store-postgres's local-cluster: Debian's binaries, a temporary folder, a free port), started
 * once per run on first use and stopped when the process exits. fsync stays on and
 * synchronous_commit is off: a commit survives a crash of the server process, a power cut may lose
 * the last ones — the promise the SQLite store's WAL with synchronous = NORMAL makes.
 */
import { startLocalCluster, type LocalCluster } from '@sfm/store-postgres/local-cluster';

let cluster: Promise<LocalCluster> | undefined;

/** A fresh, empty database's URL (the cluster started first if need be). */
export async function freshPostgres(): Promise<string> {
  cluster ??= startLocalCluster();
  return (await cluster).createDatabase();
}

export const POSTGRES_SETTINGS = 'local cluster, fsync on, synchronous_commit off';
