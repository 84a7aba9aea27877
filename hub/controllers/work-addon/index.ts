// Public surface of hub/controllers/work-addon/: ManifestWork delivery as an OCM add-on.
export {
  APPLIED_MANIFEST_WORK_CRD,
  WORK_ADDON,
  WORK_ADDON_NAME,
  createWorkAddOnController,
  type WorkAddOnControllerOptions,
} from './work-addon-controller.ts';
