// Compile-only stand-ins for the few UnityEngine/UnityEditor APIs the package uses, with the
// signatures of Unity 2021.3. They let the test suite compile the Unity-only sources (pump,
// lifecycle hooks, link.xml processor, sample) with UNITY_* defines, and let UnityGlueTest drive the
// pump and the hooks the way Unity would (members named Simulate* exist only here). Whether the
// real Unity calls them as documented cannot be checked without Unity.
using System;

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
        }
    }
}

namespace UnityEngine
{
    public class Object
    {
        public HideFlags hideFlags { get; set; }

        public static void DontDestroyOnLoad(Object target)
        {
        }
    }

    public class Component : Object
    {
        public GameObject gameObject
        {
            get { return null; }
        }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public sealed class GameObject : Object
    {
        public GameObject(string name)
        {
        }

        public T AddComponent<T>() where T : Component
        {
            var component = (T)Activator.CreateInstance(typeof(T), true);
            SimulatedComponents.Add(component);
            return component;
        }

        /// <summary>Every component added so far (test-only).</summary>
        public static readonly System.Collections.Generic.List<Component> SimulatedComponents =
            new System.Collections.Generic.List<Component>();
    }

    [Flags]
    public enum HideFlags
    {
        None = 0,
        HideInHierarchy = 1,
        HideInInspector = 2,
        DontSaveInEditor = 4,
        NotEditable = 8,
        DontSaveInBuild = 16,
        DontUnloadUnusedAsset = 32,
        DontSave = 52,
        HideAndDontSave = 61,
    }

    public enum NetworkReachability
    {
        NotReachable,
        ReachableViaCarrierDataNetwork,
        ReachableViaLocalAreaNetwork,
    }

    public static class Application
    {
        /// <summary>Where Unity keeps persistent data (test-only: a folder under the temp directory).</summary>
        public static string persistentDataPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(),
            "xo-unity-stub-data-" + System.Diagnostics.Process.GetCurrentProcess().Id);

        public static bool isPlaying
        {
            get { return SimulatedIsPlaying; }
        }

        /// <summary>What isPlaying answers (test-only).</summary>
        public static bool SimulatedIsPlaying = true;

        public static bool isMobilePlatform
        {
            get { return false; }
        }

        public static NetworkReachability internetReachability
        {
            get { return NetworkReachability.ReachableViaLocalAreaNetwork; }
        }

        public static event Action quitting;

        public static void OpenURL(string url)
        {
        }

        /// <summary>Raises quitting, as Unity does when the player quits (test-only).</summary>
        public static void SimulateQuit()
        {
            if (quitting != null)
                quitting();
        }
    }

    public static class Time
    {
        public static float unscaledTime
        {
            get { return 0f; }
        }
    }

    public class AndroidJavaObject : IDisposable
    {
        public AndroidJavaObject(string className, params object[] args)
        {
        }

        public void Dispose()
        {
        }

        public IntPtr GetRawObject()
        {
            return IntPtr.Zero;
        }

        public void CallStatic(string methodName, params object[] args)
        {
        }

        public T Call<T>(string methodName, params object[] args)
        {
            return default(T);
        }

        public T GetStatic<T>(string fieldName)
        {
            return default(T);
        }
    }

    public class AndroidJavaClass : AndroidJavaObject
    {
        public AndroidJavaClass(string className) : base(className)
        {
        }
    }

    public static class Debug
    {
        /// <summary>Every line logged, prefixed with its kind (test-only).</summary>
        public static readonly System.Collections.Generic.List<string> SimulatedLog =
            new System.Collections.Generic.List<string>();

        public static void Log(object message)
        {
            lock (SimulatedLog) SimulatedLog.Add("Log: " + message);
        }

        public static void LogWarning(object message)
        {
            lock (SimulatedLog) SimulatedLog.Add("Warning: " + message);
        }

        public static void LogError(object message)
        {
            lock (SimulatedLog) SimulatedLog.Add("Error: " + message);
        }

        public static void LogException(Exception exception)
        {
            lock (SimulatedLog) SimulatedLog.Add("Exception: " + exception.Message);
        }
    }

    public class ScriptableObject : Object
    {
        public static T CreateInstance<T>() where T : ScriptableObject
        {
            return (T)Activator.CreateInstance(typeof(T), true);
        }
    }

    public static class Resources
    {
        /// <summary>What Resources.Load finds, by path (test-only).</summary>
        public static readonly System.Collections.Generic.Dictionary<string, Object> SimulatedAssets =
            new System.Collections.Generic.Dictionary<string, Object>();

        public static T Load<T>(string path) where T : Object
        {
            Object asset;
            return SimulatedAssets.TryGetValue(path, out asset) ? asset as T : null;
        }
    }

    public sealed class GUILayoutOption
    {
    }

    public static class GUILayout
    {
        public static void Label(string text, params object[] options)
        {
        }

        public static bool Button(string text, params object[] options)
        {
            return false;
        }
    }

    public enum RuntimeInitializeLoadType
    {
        AfterSceneLoad,
        BeforeSceneLoad,
        AfterAssembliesLoaded,
        BeforeSplashScreen,
        SubsystemRegistration,
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class RuntimeInitializeOnLoadMethodAttribute : Attribute
    {
        public RuntimeInitializeOnLoadMethodAttribute(RuntimeInitializeLoadType loadType)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip)
        {
        }
    }
}

namespace UnityEditor
{
    public enum SettingsScope
    {
        User,
        Project,
    }

    public abstract class SettingsProvider
    {
        protected SettingsProvider(string path, SettingsScope scopes, System.Collections.Generic.IEnumerable<string> keywords = null)
        {
            settingsPath = path;
            scope = scopes;
            this.keywords = keywords;
        }

        public string settingsPath { get; set; }

        public SettingsScope scope { get; private set; }

        public System.Collections.Generic.IEnumerable<string> keywords { get; set; }

        public virtual void OnGUI(string searchContext)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class SettingsProviderAttribute : Attribute
    {
    }

    public sealed class SerializedProperty
    {
        internal object Owner;
        internal System.Reflection.FieldInfo Field;

        public string name
        {
            get { return Field.Name; }
        }

        public long longValue
        {
            get { return Convert.ToInt64(Field.GetValue(Owner)); }
            set { Field.SetValue(Owner, value); }
        }
    }

    public sealed class SerializedObject
    {
        public SerializedObject(UnityEngine.Object obj)
        {
            targetObject = obj;
        }

        public UnityEngine.Object targetObject { get; private set; }

        public void Update()
        {
        }

        public bool ApplyModifiedProperties()
        {
            return false;
        }

        public SerializedProperty FindProperty(string propertyPath)
        {
            var field = targetObject.GetType().GetField(propertyPath,
                System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);
            return field == null ? null : new SerializedProperty { Owner = targetObject, Field = field };
        }
    }

    public enum MessageType
    {
        None,
        Info,
        Warning,
        Error,
    }

    public static class EditorGUILayout
    {
        /// <summary>The properties drawn, in order (test-only).</summary>
        public static readonly System.Collections.Generic.List<string> SimulatedDrawn =
            new System.Collections.Generic.List<string>();

        public static bool PropertyField(SerializedProperty property, params UnityEngine.GUILayoutOption[] options)
        {
            if (property == null)
                throw new ArgumentNullException("property");
            SimulatedDrawn.Add(property.name);
            return false;
        }

        public static void HelpBox(string message, MessageType type)
        {
            SimulatedDrawn.Add("help: " + message);
        }
    }

    public enum PlayModeStateChange
    {
        EnteredEditMode,
        ExitingEditMode,
        EnteredPlayMode,
        ExitingPlayMode,
    }

    public static class EditorApplication
    {
        public delegate void CallbackFunction();

        public static CallbackFunction update;

        public static event Action<PlayModeStateChange> playModeStateChanged;

        public static void SimulatePlayModeStateChange(PlayModeStateChange change)
        {
            if (playModeStateChanged != null)
                playModeStateChanged(change);
        }
    }

    public static class AssemblyReloadEvents
    {
        public delegate void AssemblyReloadCallback();

        public static event AssemblyReloadCallback beforeAssemblyReload;

        public static void SimulateBeforeAssemblyReload()
        {
            if (beforeAssemblyReload != null)
                beforeAssemblyReload();
        }
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class InitializeOnLoadMethodAttribute : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class InitializeOnLoadAttribute : Attribute
    {
    }

    public enum BuildTarget
    {
        StandaloneOSX = 2,
        StandaloneWindows = 5,
        iOS = 9,
        Android = 13,
        StandaloneWindows64 = 19,
        WebGL = 20,
        StandaloneLinux64 = 24,
    }

    public enum iOSSdkVersion
    {
        DeviceSDK = 988,
        SimulatorSDK = 989,
    }

    public static class PlayerSettings
    {
        public static class iOS
        {
            public static iOSSdkVersion sdkVersion { get; set; }
        }
    }

    public class AssetImporter : UnityEngine.Object
    {
        /// <summary>Importers by asset path (test-only).</summary>
        public static readonly System.Collections.Generic.Dictionary<string, AssetImporter> SimulatedImporters =
            new System.Collections.Generic.Dictionary<string, AssetImporter>();

        public string assetPath { get; set; }

        public static AssetImporter GetAtPath(string path)
        {
            AssetImporter importer;
            return SimulatedImporters.TryGetValue(path, out importer) ? importer : null;
        }
    }

    public sealed class PluginImporter : AssetImporter
    {
        public delegate bool IncludeInBuildDelegate(string path);

        private IncludeInBuildDelegate _include;

        public void SetIncludeInBuildDelegate(IncludeInBuildDelegate includeInBuildDelegate)
        {
            _include = includeInBuildDelegate;
        }

        public bool ShouldIncludeInBuild()
        {
            return _include == null || _include(assetPath);
        }
    }

    public static class AssetDatabase
    {
        /// <summary>Assets by path (test-only).</summary>
        public static readonly System.Collections.Generic.Dictionary<string, UnityEngine.Object> SimulatedAssets =
            new System.Collections.Generic.Dictionary<string, UnityEngine.Object>();

        /// <summary>Asset paths by GUID (test-only).</summary>
        public static readonly System.Collections.Generic.Dictionary<string, string> SimulatedGuids =
            new System.Collections.Generic.Dictionary<string, string>();

        public static string GUIDToAssetPath(string guid)
        {
            string path;
            return SimulatedGuids.TryGetValue(guid, out path) ? path : "";
        }

        public static T LoadAssetAtPath<T>(string assetPath) where T : UnityEngine.Object
        {
            UnityEngine.Object asset;
            return SimulatedAssets.TryGetValue(assetPath, out asset) ? asset as T : null;
        }

        public static void CreateAsset(UnityEngine.Object asset, string path)
        {
            SimulatedAssets[path] = asset;
        }

        public static void SaveAssets()
        {
        }

        public static bool IsValidFolder(string path)
        {
            return SimulatedFolders.Contains(path);
        }

        public static string CreateFolder(string parentFolder, string newFolderName)
        {
            SimulatedFolders.Add(parentFolder + "/" + newFolderName);
            return "";
        }

        /// <summary>Folders that exist (test-only).</summary>
        public static readonly System.Collections.Generic.HashSet<string> SimulatedFolders =
            new System.Collections.Generic.HashSet<string> { "Assets" };
    }
}

namespace UnityEditor.Build
{
    public interface IOrderedCallback
    {
        int callbackOrder { get; }
    }

    public interface IPreprocessBuildWithReport : IOrderedCallback
    {
        void OnPreprocessBuild(UnityEditor.Build.Reporting.BuildReport report);
    }

    public class BuildFailedException : Exception
    {
        public BuildFailedException(string message)
            : base(message)
        {
        }
    }

    public interface IUnityLinkerProcessor : IOrderedCallback
    {
        string GenerateAdditionalLinkXmlFile(UnityEditor.Build.Reporting.BuildReport report,
            UnityEditor.UnityLinker.UnityLinkerBuildPipelineData data);
    }
}

namespace UnityEditor.Build.Reporting
{
    public sealed class BuildReport
    {
        public BuildSummary summary { get; set; }
    }

    public struct BuildSummary
    {
        public UnityEditor.BuildTarget platform { get; set; }
    }
}

namespace UnityEditor.UnityLinker
{
    public sealed class UnityLinkerBuildPipelineData
    {
    }
}
