import type { RequestContext } from '../../core/index.js';
import { kmsError } from '../errors.js';
import type { KmsInput } from '../schemas.js';

/**
 * Custom key stores (AWS CloudHSM and external key stores) keep key material outside KMS; Coffer keeps every key
 * under its own root key and has none. Their inputs are still validated by their schemas, then:
 * - CreateCustomKeyStore, ConnectCustomKeyStore, DeleteCustomKeyStore, DisconnectCustomKeyStore and
 *   UpdateCustomKeyStore answer one UnsupportedOperationException, so a caller learns why instead of reading an
 *   UnknownOperationException as a protocol fault.
 * - DescribeCustomKeyStores answers what AWS answers in an account without custom key stores: an empty list
 *   (Terraform and CLIs call it to enumerate); asked for one store by id or name, CustomKeyStoreNotFoundException,
 *   AWS's answer for a store that does not exist; a Marker, which Coffer never handed out, InvalidMarkerException.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeCustomKeyStores.html
 */
export function createCustomKeyStoreOperations() {
  const unsupported = async (): Promise<never> => {
    throw kmsError(
      'UnsupportedOperationException',
      'Custom key stores are not supported by Coffer: every KMS key is kept under the Coffer root key (Origin AWS_KMS or EXTERNAL).',
    );
  };

  async function describeCustomKeyStores(_ctx: RequestContext, input: KmsInput<'DescribeCustomKeyStores'>) {
    if (input.CustomKeyStoreId !== undefined || input.CustomKeyStoreName !== undefined) {
      const named = input.CustomKeyStoreId !== undefined ? `ID ${input.CustomKeyStoreId}` : `name ${input.CustomKeyStoreName}`;
      throw kmsError('CustomKeyStoreNotFoundException', `No custom key store with the ${named} exists in this account and Region.`);
    }
    if (input.Marker !== undefined) throw kmsError('InvalidMarkerException', 'The marker is not valid.');
    return { CustomKeyStores: [], Truncated: false };
  }

  return {
    createCustomKeyStore: unsupported,
    connectCustomKeyStore: unsupported,
    deleteCustomKeyStore: unsupported,
    disconnectCustomKeyStore: unsupported,
    updateCustomKeyStore: unsupported,
    describeCustomKeyStores,
  };
}
