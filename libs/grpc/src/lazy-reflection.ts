import type { MethodDefinition, Server, ServerDuplexStream, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** The two reflection protocols grpcurl and friends speak. */
const REFLECTION_PATHS = ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo'] as const;

interface Loaded {
  readonly methods: ReadonlyMap<string, MethodDefinition<unknown, unknown>>;
  readonly handlers: ReadonlyMap<string, (stream: ServerDuplexStream<unknown, unknown>) => void>;
}

/**
 * Serves gRPC server reflection, building it on first use. @grpc/reflection indexes every file of
 * the contract and parses its own reflection.proto twice when it is set up: about 12 MB of
 * resident memory in each Mayfly process, spent for a tool people reach for now and then
 * (grpcurl). Here the server only learns the two method paths at start; the first reflection
 * message builds the real service (`describe()` and ReflectionService) and every call is handed
 * to it, so what a client sees is exactly @grpc/reflection's answers.
 */
export function addLazyReflection(server: Pick<Server, 'addService'>, describe: () => PackageDefinition, services: readonly string[]): void {
  let loaded: Loaded | undefined;
  const load = (): Loaded => {
    if (loaded) return loaded;
    const methods = new Map<string, MethodDefinition<unknown, unknown>>();
    const handlers = new Map<string, (stream: ServerDuplexStream<unknown, unknown>) => void>();
    // ReflectionService adds its services to whatever it is given: take them, to delegate to.
    new ReflectionService(describe(), { services: [...services] }).addToServer({
      addService: (definition: ServiceDefinition, implementation: UntypedServiceImplementation) => {
        for (const [name, method] of Object.entries(definition)) {
          methods.set(method.path, method as MethodDefinition<unknown, unknown>);
          handlers.set(method.path, implementation[name] as (stream: ServerDuplexStream<unknown, unknown>) => void);
        }
      },
    });
    loaded = { methods, handlers };
    return loaded;
  };
  for (const path of REFLECTION_PATHS) {
    const method = (): MethodDefinition<unknown, unknown> => {
      const found = load().methods.get(path);
      if (!found) throw new Error(`@grpc/reflection no longer serves ${path}`);
      return found;
    };
    const definition: ServiceDefinition = {
      ServerReflectionInfo: {
        path,
        requestStream: true,
        responseStream: true,
        originalName: 'serverReflectionInfo',
        requestSerialize: (value: unknown) => method().requestSerialize(value),
        requestDeserialize: (bytes: Buffer) => method().requestDeserialize(bytes),
        responseSerialize: (value: unknown) => method().responseSerialize(value),
        responseDeserialize: (bytes: Buffer) => method().responseDeserialize(bytes),
      },
    };
    server.addService(definition, {
      ServerReflectionInfo: (stream: ServerDuplexStream<unknown, unknown>) => load().handlers.get(path)!(stream),
    });
  }
}
